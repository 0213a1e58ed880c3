//! The generator's integration tests, as one binary: golden files over a corpus of small specs,
//! every error the generator reports, robustness against mangled input, and the examples of
//! the real spec.
//!
//! Golden files live in `tests/output/`. After a deliberate change to the generator, refresh
//! them with `EXPECTORATE=overwrite cargo test -p codegen` and review the diff like code.

mod common;
mod corpus;
mod errors;
mod examples;
mod mutations;
