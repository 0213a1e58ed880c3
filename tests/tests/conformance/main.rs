//! The Connect API conformance suite: the generated client against the real server, with every
//! exchange checked against `openapi/connect.yaml`. Run it with `cargo test -p connect-conformance`.
//!
//! How it is built:
//!
//! - `common` is the harness. Each test starts the real server (`connect_server::start`) on
//!   127.0.0.1:0 with a fresh store, and a recording proxy in front of it; the generated client
//!   and the raw reqwest requests talk to the proxy only. For every exchange the proxy finds the
//!   spec operation by method and path template and checks the status is documented for it, the
//!   body validates against the declared schema (responses closed to undeclared properties,
//!   formats asserted), error codes match the contract's status table, ids are UUID v4 and
//!   times UTC. Violations fail the test in `harness.finish().await`; a harness dropped without
//!   `finish` panics. Dropshot's own router answers (404/405 for a path or method the spec does
//!   not have) name no operation and are exempt; `raw_http` asserts them directly.
//! - `common::spec` reads the YAML itself and converts its schemas to JSON Schema draft 4 with
//!   its own few lines, independent of the generator the server's validation comes from.
//! - `common::generate` derives proptest strategies and one-constraint-broken mutations from
//!   the YAML's schemas, plus the rules the schemas cannot state (metadata key length, billing
//!   rules, ids that must name users of the tenant).
//! - `coverage` walks every (operationId, status) pair the YAML documents and compares what the
//!   proxy recorded with the YAML: a new operation or status fails it until exercised.
//! - Known bugs of other crates (`common::Bug`, `KNOWN_BUGS`) are tested for the correct
//!   behaviour; while listed, their tests assert that the bug still shows, so a fix fails them
//!   until the entry goes. Nothing is skipped, nothing sleeps.

mod common;
mod coverage;
mod customers;
mod idempotency;
mod links;
mod load;
mod pagination;
mod properties;
mod raw_http;
mod tools;
mod users;
