//! The golden outputs at work: each corpus spec's trait proved against its spec, and some of
//! them served on 127.0.0.1 and sent requests that break the spec, through HTTP.

mod common;
mod conventions;
mod date_times;
mod errors;
mod media;
mod openapi31;
mod parameters;
mod proofs;
mod schemas;
mod webhooks;
