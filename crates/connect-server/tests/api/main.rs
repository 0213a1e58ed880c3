//! The server through its HTTP boundary: auth and tenancy, every validation rule, idempotency,
//! pagination, links and concurrency. (The conformance suite in `tests/` runs the generated
//! client against the server and checks every response against the spec; these tests pin the
//! server's own rules.)

mod common;

mod auth;
mod idempotency;
mod lifecycle;
mod limits;
mod links;
mod pagination;
mod tools;
mod validation;
mod webhooks;
