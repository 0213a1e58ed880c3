//! Receive the Connect API's webhooks: `customer.created` and `customer.updated`.
//!
//! Everything here but this page is generated from the API's OpenAPI document
//! (`openapi/connect.yaml`, its `x-webhooks`):
//!
//! - [`types`]: the events ([`types::CustomerCreatedEvent`], [`types::CustomerUpdatedEvent`])
//!   and everything they carry (the whole [`types::Customer`]);
//! - [`ConnectWebhooks`]: a dropshot API trait with one endpoint per webhook, at
//!   `POST /<webhook name>`. Implement it and serve
//!   `connect_webhooks_mod::api_description::<YourImpl>()` under the URL the operator
//!   configured for your tenant (`--webhook TENANT=URL` on the server), with
//!   `default_request_body_max_bytes` of at least 1 MiB: an event carries the whole customer,
//!   far more than dropshot's default limit of 1 KiB;
//! - [`signature`]: every delivery is signed (HMAC-SHA256 over a timestamp and the exact body
//!   bytes, in the [`SIGNATURE_HEADER`] header). An endpoint receives a
//!   [`signature::Signed`] delivery, whose event it reads only through
//!   [`signature::Signed::verify`] with the endpoint's secret; [`signature::sign`] is what the
//!   sender does.
//!
//! Deliveries are at least once: a delivery that is not acknowledged (204) is retried with
//! exponential backoff for up to 24 hours, with the same `eventId` on every attempt, so
//! remember the ids you have handled. This crate depends on no other crate of its workspace.
//!
//! # Example
//!
//! ```rust,no_run
//! use connect_webhooks::{ConnectWebhooks, connect_webhooks_mod, signature, types};
//! use dropshot::{HttpError, HttpResponseUpdatedNoContent, RequestContext};
//!
//! struct Receiver {
//!     verifier: signature::Verifier,
//! }
//!
//! enum Impl {}
//!
//! impl ConnectWebhooks for Impl {
//!     type Context = Receiver;
//!
//!     async fn customer_created(
//!         rqctx: RequestContext<Receiver>,
//!         delivery: signature::Signed<types::CustomerCreatedEvent>,
//!     ) -> Result<HttpResponseUpdatedNoContent, HttpError> {
//!         let event = delivery.verify(&rqctx.context().verifier)?;
//!         println!("{} created {}", event.event_id, event.data.customer_id);
//!         Ok(HttpResponseUpdatedNoContent())
//!     }
//!
//!     async fn customer_updated(
//!         rqctx: RequestContext<Receiver>,
//!         delivery: signature::Signed<types::CustomerUpdatedEvent>,
//!     ) -> Result<HttpResponseUpdatedNoContent, HttpError> {
//!         let event = delivery.verify(&rqctx.context().verifier)?;
//!         println!("{} updated {}", event.event_id, event.data.customer_id);
//!         Ok(HttpResponseUpdatedNoContent())
//!     }
//! }
//!
//! let api = connect_webhooks_mod::api_description::<Impl>().expect("the receiver's endpoints");
//! let context = Receiver { verifier: signature::Verifier::new(b"the endpoint's secret") };
//! # let _ = (api, context);
//! ```
//!
//! `examples/receive.rs` is a whole receiver that prints what a local server sends it.

// Generated code is formatted by the generator (prettyplease), byte-stable across machines.
#[rustfmt::skip]
mod generated;

pub use generated::*;
