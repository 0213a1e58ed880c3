//! The Connect API as a dropshot API trait, generated from `openapi/connect.yaml` by
//! `cargo xtask generate`.
//!
//! [`ConnectApi`] has one method per operation; implement it and serve
//! `connect_api_mod::api_description::<YourImpl>()`. Parameters arrive as typed structs, bodies
//! as [`JsonBody`] (validated against the spec), errors leave as [`ApiError`] (the spec's
//! `Error` body). This crate must not depend on the server or on the client.

#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic)]
mod generated;

pub use generated::*;

/// The API reference as one self-contained HTML page (no script, nothing fetched), generated
/// from the spec beside the trait: `connect-server` serves it at `GET /docs`.
pub const DOCS_HTML: &str = include_str!("docs.html");
