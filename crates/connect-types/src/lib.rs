//! The Connect API's schema types, generated from `openapi/connect.yaml` by
//! `cargo xtask generate`: serde and `schemars::JsonSchema`, no dropshot, no reqwest.
//!
//! Strings with length or pattern constraints are newtypes that check them on construction
//! and deserialization.

#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic)]
mod generated;

pub use generated::*;
