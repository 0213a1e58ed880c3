//! A generated webhook receiver served: a signed delivery is acknowledged with the status and
//! body its spec documents; a tampered, unsigned or stale one is refused with 401 before the
//! handler sees its event; an unsigned spec's receiver takes the event as it comes.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use codegen_golden::webhooks_webhooks::{
    self as receiver, Acknowledged, SIGNATURE_HEADER, SIGNATURE_TOLERANCE, Webhook,
    WebhooksWebhooks, signature, types,
};
use dropshot::{HttpError, HttpResponseAccepted, RequestContext};
use serde_json::json;

use crate::common::{post, read, serve};

const SECRET: &[u8] = b"shipping-secret";

struct Inbox {
    verifier: signature::Verifier,
    events: Mutex<Vec<String>>,
}

enum Shipping {}

impl WebhooksWebhooks for Shipping {
    type Context = Inbox;

    async fn shipment_dispatched(
        rqctx: RequestContext<Inbox>,
        delivery: signature::Signed<types::ShipmentDispatchedBody>,
    ) -> Result<HttpResponseAccepted<types::Receipt>, HttpError> {
        let inbox = rqctx.context();
        let event = delivery.verify(&inbox.verifier)?;
        inbox
            .events
            .lock()
            .unwrap()
            .push(event.shipment.shipment_id.to_string());
        Ok(HttpResponseAccepted(types::Receipt { accepted: true }))
    }

    async fn shipment_delivered(
        rqctx: RequestContext<Inbox>,
        delivery: signature::Signed<types::ShipmentEvent>,
    ) -> Result<Acknowledged<200, receiver::ShipmentDeliveredAcknowledgementHeaders>, HttpError>
    {
        let event = delivery.verify(&rqctx.context().verifier)?;
        Ok(Acknowledged::with_headers(
            receiver::ShipmentDeliveredAcknowledgementHeaders {
                x_receipt_id: format!("r-{}", event.shipment.shipment_id.as_str()),
            },
        ))
    }

    async fn shipment_returned(
        rqctx: RequestContext<Inbox>,
        delivery: signature::Signed<types::ShipmentEvent>,
    ) -> Result<Acknowledged<204, receiver::ShipmentReturnedAcknowledgementHeaders>, HttpError>
    {
        delivery.verify(&rqctx.context().verifier)?;
        Ok(Acknowledged::with_headers(Default::default()))
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn deliver(
    url: &str,
    path: &str,
    body: &[u8],
    signature: Option<String>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header(SIGNATURE_HEADER, signature);
    }
    read(request.send().await.unwrap()).await
}

#[tokio::test]
async fn signed_deliveries_are_acknowledged_as_the_spec_says_and_others_refused() {
    assert_eq!(SIGNATURE_HEADER, "X-Hook-Signature");
    assert_eq!(SIGNATURE_TOLERANCE, Duration::from_secs(60));
    assert_eq!(
        receiver::WEBHOOKS,
        [
            "shipment.dispatched",
            "shipment.delivered",
            "shipment.returned"
        ]
    );
    // The inline event has a type of its own; the shared one names no single webhook.
    assert_eq!(types::ShipmentDispatchedBody::PATH, "/shipment.dispatched");

    let api = receiver::webhooks_webhooks_mod::api_description::<Shipping>().unwrap();
    let inbox = Inbox {
        verifier: signature::Verifier::new(SECRET),
        events: Mutex::new(Vec::new()),
    };
    let (server, url) = serve(api, inbox).await;
    let event = json!({
        "eventId": "6f1e7f3c-3f2b-4d6a-9d59-0d9c2f3e8a11",
        "shipment": {"shipmentId": "S-1", "weightGrams": 1200},
        "carrier": "courier"
    });
    let body = serde_json::to_vec(&event).unwrap();

    let signed = signature::sign(SECRET, now(), &body);
    let (status, answer) = deliver(&url, "/shipment.dispatched", &body, Some(signed.clone())).await;
    assert_eq!((status, answer), (202, json!({"accepted": true})));
    let shared = serde_json::to_vec(&json!({
        "eventId": "6f1e7f3c-3f2b-4d6a-9d59-0d9c2f3e8a11",
        "shipment": {"shipmentId": "S-1", "weightGrams": 1200}
    }))
    .unwrap();
    let signed_shared = signature::sign(SECRET, now(), &shared);
    assert_eq!(
        deliver(
            &url,
            "/shipment.delivered",
            &shared,
            Some(signed_shared.clone())
        )
        .await
        .0,
        200
    );
    assert_eq!(
        deliver(&url, "/shipment.returned", &shared, Some(signed_shared))
            .await
            .0,
        204
    );

    let mut tampered = body.clone();
    let at = tampered.iter().position(|b| *b == b'1').unwrap();
    tampered[at] = b'9';
    let stale = signature::sign(SECRET, now() - 61, &body);
    let foreign = signature::sign(b"another secret", now(), &body);
    for (case, body, signature) in [
        ("tampered", &tampered, Some(signed.clone())),
        ("unsigned", &body, None),
        ("stale", &body, Some(stale)),
        ("foreign", &body, Some(foreign)),
        ("malformed", &body, Some("v1=zz".to_string())),
    ] {
        let (status, answer) = deliver(&url, "/shipment.dispatched", body, signature).await;
        assert_eq!(status, 401, "{case}: {answer}");
    }
    // A signed body that is not the event: 400.
    let wrong = br#"{"eventId": "not a uuid"}"#;
    let (status, _) = deliver(
        &url,
        "/shipment.dispatched",
        wrong,
        Some(signature::sign(SECRET, now(), wrong)),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(*server.app_private().events.lock().unwrap(), ["S-1"]);
}

enum Payments {}

impl codegen_golden::openapi31_webhooks::Openapi31Webhooks for Payments {
    type Context = ();

    async fn post_payment_settled(
        _rqctx: RequestContext<()>,
        delivery: dropshot::TypedBody<codegen_golden::openapi31_webhooks::types::Payment>,
    ) -> Result<codegen_golden::openapi31_webhooks::Acknowledged<200>, HttpError> {
        let _payment = delivery.into_inner();
        Ok(codegen_golden::openapi31_webhooks::Acknowledged::new())
    }
}

#[tokio::test]
async fn an_unsigned_receiver_takes_the_event_as_it_comes() {
    let api =
        codegen_golden::openapi31_webhooks::openapi31_webhooks_mod::api_description::<Payments>()
            .unwrap();
    let (_server, url) = serve(api, ()).await;
    let payment = json!({"id": "6f1e7f3c-3f2b-4d6a-9d59-0d9c2f3e8a11", "amount": 5});
    let (status, body) = post(&url, "/paymentSettled", payment).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = post(&url, "/paymentSettled", json!({"amount": "five"})).await;
    assert_eq!(status, 400);
}
