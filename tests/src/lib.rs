//! The Connect API conformance suite. Everything lives in the test binary
//! (`tests/conformance/main.rs`): the harness, the spec checks and the tests. This library is
//! empty; the package exists for `cargo test -p connect-conformance`.
