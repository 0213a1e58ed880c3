//! The harness's webhook receiver: built from the generated trait (connect-webhooks), it
//! verifies each delivery's signature, hands its body to the recorder, which checks it against
//! the spec like an exchange, and acknowledges it. Tenant acme's events come here.

use std::sync::Arc;

use connect_webhooks::{ConnectWebhooks, connect_webhooks_mod, signature, types};
use dropshot::{HttpError, HttpResponseUpdatedNoContent, HttpServer, RequestContext};

use super::proxy::Recorder;

/// The signing secret of the harness's endpoint.
pub const SECRET: &[u8] = b"conformance-webhook-secret";

pub struct Inbox {
    recorder: Arc<Recorder>,
    verifier: signature::Verifier,
}

enum Receiver {}

impl Receiver {
    fn receive<T: serde::de::DeserializeOwned>(
        inbox: &Inbox,
        name: &str,
        delivery: signature::Signed<T>,
    ) -> Result<HttpResponseUpdatedNoContent, HttpError> {
        let body = delivery.body().to_vec();
        if let Err(error) = delivery.verify(&inbox.verifier) {
            inbox
                .recorder
                .record_violation(format!("webhook {name}: {}", error.external_message));
            return Err(error);
        }
        inbox.recorder.record_delivery(name, &body, 204);
        Ok(HttpResponseUpdatedNoContent())
    }
}

impl ConnectWebhooks for Receiver {
    type Context = Inbox;

    async fn customer_created(
        rqctx: RequestContext<Inbox>,
        delivery: signature::Signed<types::CustomerCreatedEvent>,
    ) -> Result<HttpResponseUpdatedNoContent, HttpError> {
        Self::receive(rqctx.context(), "customer.created", delivery)
    }

    async fn customer_updated(
        rqctx: RequestContext<Inbox>,
        delivery: signature::Signed<types::CustomerUpdatedEvent>,
    ) -> Result<HttpResponseUpdatedNoContent, HttpError> {
        Self::receive(rqctx.context(), "customer.updated", delivery)
    }
}

/// A receiver on 127.0.0.1:0 that records into `recorder`.
pub fn start(recorder: Arc<Recorder>) -> HttpServer<Inbox> {
    let api = connect_webhooks_mod::api_description::<Receiver>().expect("the receiver's API");
    let inbox = Inbox {
        recorder,
        verifier: signature::Verifier::new(SECRET),
    };
    dropshot::ServerBuilder::new(api, inbox, connect_server::logging::discard())
        .config(dropshot::ConfigDropshot {
            bind_address: "127.0.0.1:0".parse().expect("a socket address"),
            // Events carry the whole customer: far more than dropshot's default 1 KiB.
            default_request_body_max_bytes: 1 << 20,
            ..Default::default()
        })
        .start()
        .expect("the webhook receiver starts")
}
