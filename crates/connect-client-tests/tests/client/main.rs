//! The hand-written parts of `connect-client` (construction, retries, paging, errors) against
//! the real server, run in-process, and against a fault-injecting server written here.
//!
//! One binary with a module per concern; `common` is the harness.

mod common;
mod construction;
mod docs;
mod errors;
mod paging;
mod retry;
