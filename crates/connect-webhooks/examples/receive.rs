//! A webhook receiver that prints every event it verifies.
//!
//! ```sh
//! CONNECT_WEBHOOK_SECRET=dev-secret cargo run -p connect-webhooks --example receive
//! ```
//!
//! listens on 127.0.0.1:9000 (or `CONNECT_WEBHOOK_BIND`). Point a server at it with
//! `--webhook dev=http://127.0.0.1:9000` and the same secret (`CONNECT_WEBHOOK_SECRETS=dev=dev-secret`),
//! then create or change a customer.

use std::collections::BTreeSet;
use std::sync::Mutex;

use connect_webhooks::{ConnectWebhooks, connect_webhooks_mod, signature, types};
use dropshot::{ConfigDropshot, HttpError, HttpResponseUpdatedNoContent, RequestContext};

struct Receiver {
    verifier: signature::Verifier,
    /// Event ids handled: deliveries are at least once, so a repeat is acknowledged and skipped.
    seen: Mutex<BTreeSet<uuid::Uuid>>,
}

impl Receiver {
    fn first_time(&self, id: uuid::Uuid) -> bool {
        self.seen.lock().expect("seen lock").insert(id)
    }
}

enum Impl {}

impl ConnectWebhooks for Impl {
    type Context = Receiver;

    async fn customer_created(
        rqctx: RequestContext<Receiver>,
        delivery: signature::Signed<types::CustomerCreatedEvent>,
    ) -> Result<HttpResponseUpdatedNoContent, HttpError> {
        let receiver = rqctx.context();
        let event = delivery.verify(&receiver.verifier)?;
        if receiver.first_time(event.event_id) {
            println!(
                "customer.created {} {} ({}) at {}",
                event.event_id,
                event.data.customer_id,
                event.data.name.as_str(),
                event.occurred_at
            );
        }
        Ok(HttpResponseUpdatedNoContent())
    }

    async fn customer_updated(
        rqctx: RequestContext<Receiver>,
        delivery: signature::Signed<types::CustomerUpdatedEvent>,
    ) -> Result<HttpResponseUpdatedNoContent, HttpError> {
        let receiver = rqctx.context();
        let event = delivery.verify(&receiver.verifier)?;
        if receiver.first_time(event.event_id) {
            println!(
                "customer.updated {} {} ({}, {} user(s)) at {}",
                event.event_id,
                event.data.customer_id,
                event.data.name.as_str(),
                event.data.users.len(),
                event.occurred_at
            );
        }
        Ok(HttpResponseUpdatedNoContent())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("CONNECT_WEBHOOK_SECRET")
        .map_err(|_| "set CONNECT_WEBHOOK_SECRET to the endpoint's signing secret")?;
    let bind = std::env::var("CONNECT_WEBHOOK_BIND").unwrap_or("127.0.0.1:9000".to_string());
    let api = connect_webhooks_mod::api_description::<Impl>()?;
    let receiver = Receiver {
        verifier: signature::Verifier::new(secret),
        seen: Mutex::new(BTreeSet::new()),
    };
    let log = dropshot::ConfigLogging::StderrTerminal {
        level: dropshot::ConfigLoggingLevel::Warn,
    }
    .to_logger("receive")?;
    let server = dropshot::ServerBuilder::new(api, receiver, log)
        .config(ConfigDropshot {
            bind_address: bind.parse()?,
            // An event carries the whole customer, up to a few hundred KiB; dropshot's default
            // limit is 1 KiB.
            default_request_body_max_bytes: 1 << 20,
            ..Default::default()
        })
        .start()?;
    println!("receiving webhooks on http://{}", server.local_addr());
    server.await?;
    Ok(())
}
