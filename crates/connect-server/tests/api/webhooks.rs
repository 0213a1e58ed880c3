//! Webhooks through HTTP: a receiver built from the generated trait (connect-webhooks) gets the
//! server's events, signed, with bodies that validate against the YAML; failed deliveries are
//! retried with the same `eventId`; tampered and stale deliveries do not verify; and one
//! tenant's events never reach another's receiver.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use chrono::Utc;
use connect_server::auth::ApiKeys;
use connect_server::clock::ManualClock;
use connect_server::store::InMemoryStore;
use connect_server::webhooks::{DeliveryPolicy, Endpoint};
use connect_webhooks::{ConnectWebhooks, connect_webhooks_mod, signature, types};
use dropshot::{
    ConfigDropshot, HttpError, HttpResponseUpdatedNoContent, HttpServer, RequestContext,
    ServerBuilder,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{ACME, GLOBEX, Server};

const ACME_SECRET: &[u8] = b"acme-webhook-secret";
const GLOBEX_SECRET: &[u8] = b"globex-webhook-secret";

/// One delivery attempt as the receiver saw it.
#[derive(Clone, Debug)]
struct Attempt {
    webhook: &'static str,
    body: Vec<u8>,
    signature: Option<String>,
    /// What the receiver answered.
    status: u16,
}

/// What a receiver remembers, and how it misbehaves: it answers 500 to its first `fail`
/// deliveries (after verifying them).
struct Inbox {
    verifier: signature::Verifier,
    attempts: Mutex<Vec<Attempt>>,
    fail: AtomicUsize,
    changed: tokio::sync::Notify,
}

impl Inbox {
    fn record(&self, attempt: Attempt) {
        self.attempts.lock().unwrap().push(attempt);
        self.changed.notify_waiters();
    }

    fn attempts(&self) -> Vec<Attempt> {
        self.attempts.lock().unwrap().clone()
    }

    /// Waits (at most 10 s) until `done` holds for the attempts so far.
    async fn wait_for(&self, what: &str, done: impl Fn(&[Attempt]) -> bool) -> Vec<Attempt> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let changed = self.changed.notified();
            let attempts = self.attempts();
            if done(&attempts) {
                return attempts;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!("timed out waiting for {what}; attempts: {attempts:#?}");
            }
        }
    }

    /// The acknowledged deliveries, as (webhook, body).
    fn delivered(&self) -> Vec<(&'static str, Value)> {
        self.attempts()
            .into_iter()
            .filter(|a| a.status == 204)
            .map(|a| (a.webhook, serde_json::from_slice(&a.body).unwrap()))
            .collect()
    }
}

enum Receiver {}

impl Receiver {
    async fn receive<T: serde::de::DeserializeOwned>(
        rqctx: &RequestContext<Arc<Inbox>>,
        webhook: &'static str,
        delivery: signature::Signed<T>,
    ) -> Result<HttpResponseUpdatedNoContent, HttpError> {
        let inbox = rqctx.context();
        let body = delivery.body().to_vec();
        let signature = delivery.signature().map(str::to_string);
        let mut attempt = Attempt {
            webhook,
            body,
            signature,
            status: 401,
        };
        let verified = delivery.verify(&inbox.verifier);
        if let Err(error) = verified {
            inbox.record(attempt);
            return Err(error);
        }
        let failing = inbox
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        attempt.status = if failing { 500 } else { 204 };
        inbox.record(attempt);
        if failing {
            return Err(HttpError::for_internal_error("failing on purpose".into()));
        }
        Ok(HttpResponseUpdatedNoContent())
    }
}

impl ConnectWebhooks for Receiver {
    type Context = Arc<Inbox>;

    async fn customer_created(
        rqctx: RequestContext<Arc<Inbox>>,
        delivery: signature::Signed<types::CustomerCreatedEvent>,
    ) -> Result<HttpResponseUpdatedNoContent, HttpError> {
        Self::receive(&rqctx, "customer.created", delivery).await
    }

    async fn customer_updated(
        rqctx: RequestContext<Arc<Inbox>>,
        delivery: signature::Signed<types::CustomerUpdatedEvent>,
    ) -> Result<HttpResponseUpdatedNoContent, HttpError> {
        Self::receive(&rqctx, "customer.updated", delivery).await
    }
}

/// A receiver on 127.0.0.1:0 that verifies with `secret`.
fn receiver(secret: &[u8]) -> (HttpServer<Arc<Inbox>>, Arc<Inbox>) {
    let inbox = Arc::new(Inbox {
        verifier: signature::Verifier::new(secret),
        attempts: Mutex::new(Vec::new()),
        fail: AtomicUsize::new(0),
        changed: tokio::sync::Notify::new(),
    });
    let api = connect_webhooks_mod::api_description::<Receiver>().expect("the receiver's API");
    let server = ServerBuilder::new(api, inbox.clone(), connect_server::logging::discard())
        .config(ConfigDropshot {
            bind_address: "127.0.0.1:0".parse().unwrap(),
            default_request_body_max_bytes: 1 << 20,
            ..Default::default()
        })
        .start()
        .expect("the receiver starts");
    (server, inbox)
}

/// A Connect server whose tenants acme and globex deliver to their own receivers, retrying
/// after 10-40 ms; its clock starts now, since receivers check signatures against real time.
fn server_with_receivers(
    acme: &HttpServer<Arc<Inbox>>,
    globex: &HttpServer<Arc<Inbox>>,
    policy: DeliveryPolicy,
) -> Server {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let store = Arc::new(InMemoryStore::new(clock.clone()));
    let endpoint = |server: &HttpServer<Arc<Inbox>>, secret: &[u8]| {
        Endpoint::new(&format!("http://{}", server.local_addr()), secret).unwrap()
    };
    let webhooks = BTreeMap::from([
        ("acme".to_string(), endpoint(acme, ACME_SECRET)),
        ("globex".to_string(), endpoint(globex, GLOBEX_SECRET)),
    ]);
    let server = connect_server::start_with_store(
        connect_server::Config {
            webhooks,
            delivery: policy,
            ..connect_server::Config::new(
                "127.0.0.1:0".parse().unwrap(),
                ApiKeys::new([
                    ("acme".to_string(), ACME.to_string()),
                    ("globex".to_string(), GLOBEX.to_string()),
                ]),
                clock.clone(),
                connect_server::logging::discard(),
            )
        },
        store,
    )
    .expect("server starts");
    let base = format!("http://{}", server.local_addr());
    Server {
        server,
        base,
        http: reqwest::Client::new(),
        clock,
    }
}

fn quick() -> DeliveryPolicy {
    DeliveryPolicy {
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(40),
        attempt_timeout: Duration::from_secs(5),
        ..DeliveryPolicy::default()
    }
}

/// The YAML's own schema of `name` (read from openapi/connect.yaml, not from generated code).
fn yaml_validator(name: &str) -> spec_schema::jsonschema::Validator {
    let doc: Value = serde_yaml::from_str(connect_server::SPEC_YAML).unwrap();
    let definitions = spec_schema::Definitions::from_value(spec_schema::definitions(&doc));
    definitions.validator(name)
}

fn assert_valid(schema: &str, body: &Value) {
    let validator = yaml_validator(schema);
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{schema}: {errors:?}\n{body:#}");
}

#[tokio::test]
async fn every_customer_change_reaches_the_tenants_receiver_signed_and_as_the_yaml_says() {
    let (acme_receiver, acme) = receiver(ACME_SECRET);
    let (globex_receiver, globex) = receiver(GLOBEX_SECRET);
    let s = server_with_receivers(&acme_receiver, &globex_receiver, quick());

    let user = s.user("Ada").await;
    let created = s
        .post(
            "/customers",
            json!({ "name": "Acme AB", "customerType": "BUSINESS" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let id = created.body["customerId"].as_str().unwrap().to_string();
    s.clock.advance(chrono::Duration::seconds(1));
    let updated = s
        .send(
            reqwest::Method::PUT,
            &format!("/customers/{id}"),
            Some(ACME),
            &[],
            Some(json!({ "name": "Acme Holding AB" })),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{updated:?}");
    s.clock.advance(chrono::Duration::seconds(1));
    let billing = s
        .put(
            &format!("/customers/{id}/billing"),
            json!({ "method": "EMAIL_INVOICE", "email": "billing@acme.example" }),
        )
        .await;
    assert_eq!(billing.status, StatusCode::OK, "{billing:?}");
    s.clock.advance(chrono::Duration::seconds(1));
    let linked = s
        .post(&format!("/customers/{id}/users"), json!({ "userId": user }))
        .await;
    assert_eq!(linked.status, StatusCode::CREATED, "{linked:?}");
    s.clock.advance(chrono::Duration::seconds(1));
    let unlinked = s
        .send(
            reqwest::Method::DELETE,
            &format!("/customers/{id}/users?userId={user}"),
            Some(ACME),
            &[],
            None,
        )
        .await;
    assert_eq!(unlinked.status, StatusCode::NO_CONTENT, "{unlinked:?}");

    acme.wait_for("five deliveries", |a| a.len() >= 5).await;
    // Deliveries of one customer may arrive in any order: sorted by the customer's updatedAt.
    let mut delivered = acme.delivered();
    delivered.sort_by_key(|(_, body)| body["data"]["updatedAt"].as_str().unwrap().to_string());
    let names: Vec<&str> = delivered.iter().map(|(name, _)| *name).collect();
    assert_eq!(names.len(), 5, "{delivered:#?}");
    assert_eq!(names[0], "customer.created");
    assert!(
        names[1..].iter().all(|n| *n == "customer.updated"),
        "{names:?}"
    );
    for (name, body) in &delivered {
        let schema = if *name == "customer.created" {
            "CustomerCreatedEvent"
        } else {
            "CustomerUpdatedEvent"
        };
        assert_valid(schema, body);
        assert_eq!(body["type"], *name);
        assert_eq!(body["data"]["customerId"], id.as_str());
    }
    let created_body = &delivered[0].1;
    assert_eq!(
        created_body["data"], created.body,
        "the customer as created"
    );
    assert_eq!(created_body["occurredAt"], created.body["createdAt"]);
    let bodies: Vec<&Value> = delivered.iter().map(|(_, b)| &b["data"]).collect();
    assert!(bodies.contains(&&updated.body), "the PATCH's customer");
    assert!(
        bodies.contains(&&billing.body),
        "the billing update's customer"
    );
    assert!(
        delivered
            .iter()
            .any(|(_, b)| b["data"]["users"].as_array().unwrap().len() == 1),
        "the customer with its new link"
    );
    let ids: std::collections::BTreeSet<&str> = delivered
        .iter()
        .map(|(_, b)| b["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 5, "one event per change");
    // Every attempt carried a signature the receiver verified with acme's secret.
    assert!(
        acme.attempts()
            .iter()
            .all(|a| a.signature.is_some() && a.status == 204)
    );

    // A replayed write emits nothing more; globex's receiver saw none of acme's events.
    let key = [("X-Idempotency-Key", "once")];
    let body = json!({ "name": "Initech", "customerType": "BUSINESS" });
    for _ in 0..2 {
        let reply = s
            .send(
                reqwest::Method::POST,
                "/customers",
                Some(ACME),
                &key,
                Some(body.clone()),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    acme.wait_for("the keyed create", |a| a.len() >= 6).await;
    // Give a (wrong) second event time to arrive before counting.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(acme.attempts().len(), 6, "{:#?}", acme.attempts());
    assert!(globex.attempts().is_empty(), "{:#?}", globex.attempts());

    // globex's own change reaches globex's receiver only.
    let reply = s
        .send(
            reqwest::Method::POST,
            "/customers",
            Some(GLOBEX),
            &[],
            Some(body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let attempts = globex.wait_for("globex's event", |a| !a.is_empty()).await;
    assert_eq!(attempts[0].webhook, "customer.created");
    assert_eq!(acme.attempts().len(), 6);

    let counts = s
        .server
        .app_private()
        .webhooks
        .drain(Duration::from_secs(5))
        .await;
    assert_eq!(
        (counts.delivered, counts.retried, counts.given_up),
        (7, 0, 0)
    );
}

#[tokio::test]
async fn a_receiver_that_fails_twice_sees_three_attempts_of_one_event() {
    let (acme_receiver, acme) = receiver(ACME_SECRET);
    let (globex_receiver, _globex) = receiver(GLOBEX_SECRET);
    acme.fail.store(2, Ordering::SeqCst);
    let s = server_with_receivers(&acme_receiver, &globex_receiver, quick());
    s.customer("Acme AB").await;
    let attempts = acme
        .wait_for("a delivered attempt", |a| a.iter().any(|a| a.status == 204))
        .await;
    let statuses: Vec<u16> = attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [500, 500, 204]);
    let ids: Vec<Value> = attempts
        .iter()
        .map(|a| serde_json::from_slice::<Value>(&a.body).unwrap()["eventId"].clone())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "one eventId: {ids:?}");
    let counts = s
        .server
        .app_private()
        .webhooks
        .drain(Duration::from_secs(5))
        .await;
    assert_eq!(
        (counts.delivered, counts.retried, counts.given_up),
        (1, 2, 0)
    );
}

#[tokio::test]
async fn a_tampered_or_stale_delivery_does_not_verify() {
    let (acme_receiver, acme) = receiver(ACME_SECRET);
    let (globex_receiver, _globex) = receiver(GLOBEX_SECRET);
    let s = server_with_receivers(&acme_receiver, &globex_receiver, quick());
    s.customer("Acme AB").await;
    let real = acme
        .wait_for("the delivery", |a| !a.is_empty())
        .await
        .remove(0);
    let header = real.signature.clone().unwrap();
    let verifier = signature::Verifier::new(ACME_SECRET);
    let now = SystemTime::now();
    assert_eq!(verifier.verify(Some(&header), &real.body, now), Ok(()));

    // Through the receiver's HTTP boundary: a changed body, a changed signature, none at all,
    // and a delivery signed with another secret are all refused with 401.
    let url = format!("http://{}/customer.created", acme_receiver.local_addr());
    let mut tampered = real.body.clone();
    let at = tampered.iter().position(|b| *b == b'A').unwrap();
    tampered[at] = b'B';
    let timestamp = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let cases: [(&str, Vec<u8>, Option<String>); 4] = [
        ("tampered body", tampered.clone(), Some(header.clone())),
        (
            "forged signature",
            real.body.clone(),
            Some(header.replace("v1=", "v1=00")),
        ),
        ("no signature", real.body.clone(), None),
        (
            "another secret",
            real.body.clone(),
            Some(signature::sign(GLOBEX_SECRET, timestamp, &real.body)),
        ),
    ];
    let http = reqwest::Client::new();
    for (case, body, signature) in cases {
        let mut request = http
            .post(&url)
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(signature) = signature {
            request = request.header(connect_webhooks::SIGNATURE_HEADER, signature);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
    }
    assert_eq!(
        acme.attempts().iter().filter(|a| a.status == 204).count(),
        1,
        "only the real delivery was acknowledged"
    );

    // A captured delivery replayed later (or signed with a clock far ahead) is stale.
    let late = now + connect_webhooks::SIGNATURE_TOLERANCE + Duration::from_secs(1);
    assert!(matches!(
        verifier.verify(Some(&header), &real.body, late),
        Err(signature::SignatureError::Stale { .. })
    ));
    assert_eq!(
        verifier.verify(Some(&header), &tampered, now),
        Err(signature::SignatureError::Mismatch)
    );
    assert_eq!(
        verifier.verify(Some("v1=abc"), &real.body, now),
        Err(signature::SignatureError::Malformed)
    );
}

#[tokio::test]
async fn past_the_horizon_an_event_is_given_up() {
    let (acme_receiver, acme) = receiver(ACME_SECRET);
    let (globex_receiver, _globex) = receiver(GLOBEX_SECRET);
    acme.fail.store(usize::MAX, Ordering::SeqCst);
    let policy = DeliveryPolicy {
        first_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_millis(200),
        ..quick()
    };
    let s = server_with_receivers(&acme_receiver, &globex_receiver, policy);
    s.customer("Acme AB").await;
    acme.wait_for("the first attempt", |a| !a.is_empty()).await;
    // A day later (by the server's clock), the next failure is past the 24-hour horizon.
    s.clock.advance(chrono::Duration::hours(25));
    let webhooks = s.server.app_private().webhooks.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while webhooks.counts().given_up == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not given up: {:?}",
            webhooks.counts()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let counts = webhooks.drain(Duration::from_secs(5)).await;
    assert_eq!(counts.delivered, 0);
    assert_eq!(counts.given_up, 1);
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    // A receiver URL that answers 307 to the real receiver: the delivery fails there.
    let (acme_receiver, acme) = receiver(ACME_SECRET);
    let redirector = redirect_to(format!("http://{}", acme_receiver.local_addr()));
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let server = connect_server::start_with_store(
        connect_server::Config {
            webhooks: BTreeMap::from([(
                "acme".to_string(),
                Endpoint::new(&format!("http://{}", redirector.local_addr()), ACME_SECRET).unwrap(),
            )]),
            delivery: quick(),
            ..connect_server::Config::new(
                "127.0.0.1:0".parse().unwrap(),
                ApiKeys::new([("acme".to_string(), ACME.to_string())]),
                clock.clone(),
                connect_server::logging::discard(),
            )
        },
        Arc::new(InMemoryStore::new(clock.clone())),
    )
    .unwrap();
    let reply = reqwest::Client::new()
        .post(format!("http://{}/customers", server.local_addr()))
        .header("X-API-Key", ACME)
        .json(&json!({ "name": "Acme AB", "customerType": "BUSINESS" }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::CREATED);
    let webhooks = server.app_private().webhooks.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while webhooks.counts().retried < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            webhooks.counts()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(acme.attempts().is_empty(), "the redirect was followed");
    let counts = webhooks.drain(Duration::from_secs(5)).await;
    assert_eq!((counts.delivered, counts.given_up), (0, 1));
}

/// A server that answers `POST /customer.created` with 307 to the same path at `target`.
fn redirect_to(target: String) -> HttpServer<String> {
    #[dropshot::endpoint { method = POST, path = "/customer.created" }]
    async fn any(
        rqctx: RequestContext<String>,
    ) -> Result<dropshot::HttpResponseTemporaryRedirect, HttpError> {
        dropshot::http_response_temporary_redirect(format!("{}/customer.created", rqctx.context()))
    }
    let mut api = dropshot::ApiDescription::new();
    api.register(any).unwrap();
    ServerBuilder::new(api, target, connect_server::logging::discard())
        .config(ConfigDropshot {
            bind_address: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        })
        .start()
        .unwrap()
}

#[tokio::test]
async fn a_drain_retries_at_once_what_waits_for_a_retry() {
    let (acme_receiver, acme) = receiver(ACME_SECRET);
    let (globex_receiver, _globex) = receiver(GLOBEX_SECRET);
    acme.fail.store(1, Ordering::SeqCst);
    // The retry would come in an hour; the drain does not wait for it.
    let policy = DeliveryPolicy {
        first_backoff: Duration::from_secs(3_600),
        max_backoff: Duration::from_secs(3_600),
        ..quick()
    };
    let s = server_with_receivers(&acme_receiver, &globex_receiver, policy);
    s.customer("Acme AB").await;
    acme.wait_for("the failed attempt", |a| !a.is_empty()).await;
    let webhooks = s.server.app_private().webhooks.clone();
    let counts = webhooks.drain(Duration::from_secs(5)).await;
    assert_eq!(
        (counts.delivered, counts.retried, counts.given_up),
        (1, 1, 0)
    );
    let statuses: Vec<u16> = acme.attempts().iter().map(|a| a.status).collect();
    assert_eq!(statuses, [500, 204]);
    // Once draining, new events are not taken.
    s.customer("Initech").await;
    assert_eq!(webhooks.counts().given_up, 1);
}

#[tokio::test]
async fn a_tenants_queue_is_bounded() {
    let (acme_receiver, acme) = receiver(ACME_SECRET);
    let (globex_receiver, globex) = receiver(GLOBEX_SECRET);
    acme.fail.store(usize::MAX, Ordering::SeqCst);
    let policy = DeliveryPolicy {
        queue: 2,
        first_backoff: Duration::from_secs(3_600),
        max_backoff: Duration::from_secs(3_600),
        ..quick()
    };
    let s = server_with_receivers(&acme_receiver, &globex_receiver, policy);
    for name in ["A", "B", "C"] {
        s.customer(name).await;
    }
    let webhooks = s.server.app_private().webhooks.clone();
    // Two events wait for their retry; the third found the queue full and was given up.
    acme.wait_for("two attempts", |a| a.len() >= 2).await;
    assert_eq!(webhooks.counts().given_up, 1);
    // Another tenant's queue is its own.
    let reply = s
        .send(
            reqwest::Method::POST,
            "/customers",
            Some(GLOBEX),
            &[],
            Some(json!({ "name": "Globex", "customerType": "BUSINESS" })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    globex.wait_for("globex's event", |a| !a.is_empty()).await;
    let counts = webhooks.drain(Duration::from_secs(5)).await;
    assert_eq!(counts.delivered, 1, "{counts:?}");
    assert_eq!(counts.given_up, 3, "{counts:?}");
}
