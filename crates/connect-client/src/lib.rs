//! Rust client for the Connect API, generated from `openapi/connect.yaml` by progenitor.
//!
//! This crate depends on no other crate of its workspace: consumers pull it as it is.

#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic)]
mod generated;

pub use generated::*;
