//! The harness: the real server on 127.0.0.1:0 with a fresh store, the recording proxy in front
//! of it, and the generated client pointed at the proxy.
//!
//! Every exchange of every test goes through the proxy, which checks it against the spec
//! ([`spec::Spec::check`]). Violations fail the test in [`Harness::finish`]; a harness dropped
//! without `finish` panics, so a test cannot forget the check. Readiness is by construction:
//! `connect_server::start` and [`proxy::Proxy::start`] return once they are listening.

pub mod gate;
pub mod generate;
pub mod proxy;
pub mod receiver;
pub mod spec;

use std::sync::Arc;
use std::time::Duration;

use connect_client::types;
use connect_client::{Client, Error, ResponseValue};
use connect_server::clock::{Clock, ManualClock, SystemClock};
use serde_json::Value;

use self::gate::Gate;
use self::proxy::{Proxy, Recorder};

/// A tenant of the test server and its API key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tenant {
    Acme,
    Globex,
}

impl Tenant {
    pub fn key(self) -> &'static str {
        match self {
            Tenant::Acme => "key-acme",
            Tenant::Globex => "key-globex",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Tenant::Acme => "acme",
            Tenant::Globex => "globex",
        }
    }
}

pub use Tenant::{Acme, Globex};

/// The keys the server is started with.
pub fn api_keys() -> connect_server::auth::ApiKeys {
    connect_server::auth::ApiKeys::new(
        [Acme, Globex].map(|tenant| (tenant.name().to_string(), tenant.key().to_string())),
    )
}

/// A guard against a hung request; not a wait for anything (no test sleeps).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Harness {
    server: Option<dropshot::HttpServer<connect_server::ServerContext>>,
    /// Where tenant acme's webhook events go (not for the gated harness).
    receiver: Option<dropshot::HttpServer<receiver::Inbox>>,
    proxy: Option<Proxy>,
    pub recorder: Arc<Recorder>,
    /// The proxy's base URL: the only address tests talk to.
    pub base: String,
    /// One plain client for the raw requests, so they share connections like real callers.
    http: reqwest::Client,
    finished: bool,
}

impl Harness {
    /// A server with a fresh store and the system clock.
    pub async fn start() -> Self {
        Self::start_with_clock(Arc::new(SystemClock)).await
    }

    /// A server whose clock the test moves.
    pub async fn start_with_manual_clock() -> (Self, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(
            "2026-01-15T09:30:00Z".parse().expect("a valid timestamp"),
        ));
        (Self::start_with_clock(clock.clone()).await, clock)
    }

    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> Self {
        Self::start_with(clock, connect_server::Limits::default()).await
    }

    /// A server with its own bounds (a short body deadline, small quotas).
    pub async fn start_with_limits(limits: connect_server::Limits) -> Self {
        Self::start_with(Arc::new(SystemClock), limits).await
    }

    async fn start_with(clock: Arc<dyn Clock>, limits: connect_server::Limits) -> Self {
        let recorder = Arc::new(Recorder::default());
        let receiver = receiver::start(recorder.clone());
        let endpoint = connect_server::webhooks::Endpoint::new(
            &format!("http://{}", receiver.local_addr()),
            receiver::SECRET,
        )
        .expect("the receiver's URL");
        let server = connect_server::start(connect_server::Config {
            limits,
            webhooks: [(Acme.name().to_string(), endpoint)].into(),
            ..connect_server::Config::new(
                "127.0.0.1:0".parse().expect("a socket address"),
                api_keys(),
                clock,
                connect_server::logging::discard(),
            )
        })
        .expect("the server starts");
        let mut harness = Self::around(server, recorder).await;
        harness.receiver = Some(receiver);
        harness
    }

    /// A server whose store stops inside the next write until the test releases it: a request
    /// that is still running, on demand (see [`gate`]).
    pub async fn start_gated() -> (Self, Arc<Gate>) {
        let gate = Gate::new();
        let server = gate::start_server(gate.clone());
        (Self::around(server, Arc::default()).await, gate)
    }

    async fn around(
        server: dropshot::HttpServer<connect_server::ServerContext>,
        recorder: Arc<Recorder>,
    ) -> Self {
        let proxy = Proxy::start(server.local_addr(), recorder.clone())
            .await
            .expect("the proxy starts");
        Self {
            base: format!("http://{}", proxy.addr),
            server: Some(server),
            receiver: None,
            proxy: Some(proxy),
            recorder,
            http: reqwest::ClientBuilder::new()
                .timeout(REQUEST_TIMEOUT)
                .build()
                .expect("a reqwest client"),
            finished: false,
        }
    }

    /// The generated client, with `tenant`'s key.
    pub fn client(&self, tenant: Tenant) -> Client {
        self.client_with_key(Some(tenant.key()))
    }

    /// The generated client with any key, or none.
    pub fn client_with_key(&self, key: Option<&str>) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(key) = key {
            headers.insert("x-api-key", key.parse().expect("a header value"));
        }
        let http = reqwest::ClientBuilder::new()
            .default_headers(headers)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("a reqwest client");
        Client::new_with_client(
            &self.base,
            http,
            connect_client::ClientState::without_api_key(),
        )
    }

    /// A plain HTTP client (no key) for what the typed client cannot send; it still goes
    /// through the proxy, so its exchanges are checked like all others.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A raw request with `tenant`'s key.
    pub fn raw(
        &self,
        tenant: Tenant,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.http()
            .request(method, self.url(path))
            .header("x-api-key", tenant.key())
    }

    /// Stops the server and fails the test if any exchange broke the spec.
    pub async fn finish(mut self) {
        let (seen, violations) = self.shut_down().await;
        assert!(
            violations.is_empty(),
            "{} exchange(s) broke the spec:\n  {}",
            violations.len(),
            violations.join("\n  ")
        );
        assert!(seen > 0, "no exchange went through the recording proxy");
    }

    /// Stops proxy and server; returns how many exchanges were seen, and the violations.
    async fn shut_down(&mut self) -> (usize, Vec<String>) {
        self.finished = true;
        drop(self.proxy.take());
        if let Some(server) = self.server.take() {
            let webhooks = server.app_private().webhooks.clone();
            server.close().await.expect("the server closes");
            // Every event of the test reaches the receiver (and the recorder) before the end.
            let counts = webhooks.drain(Duration::from_secs(10)).await;
            if counts.given_up > 0 {
                self.recorder
                    .record_violation(format!("webhook events given up: {counts:?}"));
            }
        }
        if let Some(receiver) = self.receiver.take() {
            receiver.close().await.expect("the webhook receiver closes");
        }
        (self.recorder.len(), self.recorder.violations())
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let violations = self.recorder.violations();
        if std::thread::panicking() {
            if !violations.is_empty() {
                eprintln!(
                    "spec violations seen before the failure:\n  {}",
                    violations.join("\n  ")
                );
            }
            return;
        }
        panic!(
            "a Harness was dropped without `harness.finish().await`, so its {} exchange(s) were \
             never checked against the spec ({} violation(s) pending)",
            self.recorder.len(),
            violations.len()
        );
    }
}

/// The error of a call that must fail with `status` and `code`; panics with what came instead.
pub fn expect_error<T: std::fmt::Debug>(
    result: Result<ResponseValue<T>, Error<types::Error>>,
    status: u16,
    code: &str,
) -> types::Error {
    match result {
        Err(Error::ErrorResponse(response)) => {
            let actual = response.status().as_u16();
            let body = response.into_inner();
            assert_eq!(
                (actual, body.code.as_str()),
                (status, code),
                "expected {status} {code}, got {actual} {body:?}"
            );
            body
        }
        Err(other) => panic!("expected {status} {code}, got {other:?}"),
        Ok(response) => panic!(
            "expected {status} {code}, got {} {:?}",
            response.status(),
            response.into_inner()
        ),
    }
}

/// The value of a call that must succeed with `status`.
pub fn expect_ok<T: std::fmt::Debug>(
    result: Result<ResponseValue<T>, Error<types::Error>>,
    status: u16,
) -> ResponseValue<T> {
    match result {
        Ok(response) => {
            assert_eq!(response.status().as_u16(), status, "{response:?}");
            response
        }
        Err(Error::ErrorResponse(response)) => panic!(
            "expected {status}, got {} {:?}",
            response.status(),
            response.into_inner()
        ),
        Err(other) => panic!("expected {status}, got {other:?}"),
    }
}

/// Whether a response says it is a replay.
pub fn replayed<T>(response: &ResponseValue<T>) -> bool {
    response
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

/// Asserts that an error names `property` in its details.
pub fn assert_names(error: &types::Error, property: &str) {
    assert!(
        error.details.iter().any(|d| d.property == property),
        "expected a detail for {property}, got {error:?}"
    );
}

/// Creates a user with just a name.
pub async fn user(client: &Client, name: &str) -> types::User {
    expect_ok(
        client
            .create_user()
            .body(types::CreateUserRequest::builder().name(name))
            .send()
            .await,
        201,
    )
    .into_inner()
}

/// Creates a consumer customer with just a name.
pub async fn customer(client: &Client, name: &str) -> types::Customer {
    expect_ok(
        client
            .create_customer()
            .body(
                types::CreateCustomerRequest::builder()
                    .customer_type(types::CustomerType::Consumer)
                    .name(name),
            )
            .send()
            .await,
        201,
    )
    .into_inner()
}

/// Links `user` to `customer` with the default role.
pub async fn link(client: &Client, customer: uuid::Uuid, user: uuid::Uuid) -> types::CustomerUser {
    expect_ok(
        client
            .add_user_to_customer()
            .customer_id(customer.to_string())
            .body(types::AddUserToCustomerRequest::builder().user_id(user))
            .send()
            .await,
        201,
    )
    .into_inner()
}

pub async fn get_user(client: &Client, id: uuid::Uuid) -> types::User {
    expect_ok(client.get_user().user_id(id.to_string()).send().await, 200).into_inner()
}

pub async fn get_customer(client: &Client, id: uuid::Uuid) -> types::Customer {
    expect_ok(
        client
            .get_customer()
            .customer_id(id.to_string())
            .send()
            .await,
        200,
    )
    .into_inner()
}

/// The `total` of the tenant's unfiltered user list.
pub async fn user_total(client: &Client) -> i64 {
    expect_ok(client.list_users().limit(1u64).send().await, 200)
        .into_inner()
        .pagination
        .total
}

/// The `total` of the tenant's unfiltered customer list.
pub async fn customer_total(client: &Client) -> i64 {
    expect_ok(client.list_customers().limit(1u64).send().await, 200)
        .into_inner()
        .pagination
        .total
}

/// A value as JSON (for comparing requests with what the server answers).
pub fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("generated types serialize")
}

/// JSON with `null` members removed: an absent optional field and an explicit `null` say the
/// same thing in this API.
pub fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Reads a raw response: status and JSON body.
pub async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("a response body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body)
}

/// A request type of the client from JSON (the client's own constraints are checked here).
pub fn typed<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value.clone())
        .unwrap_or_else(|error| panic!("the client's type refuses {value}: {error}"))
}

/// Bugs this suite found, reported, and cannot fix (the fix belongs to the server crate, or
/// to the generated client). A test of the correct behaviour passes its check through [`conforms`]: while the bug
/// is listed in [`KNOWN_BUGS`], the test asserts that the bug still shows, so a fix fails the
/// test until the entry is removed; once unlisted, the test asserts the correct behaviour. No
/// test is skipped either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// A path whose percent-encoding is not UTF-8 (`GET /users/%FF`) is answered 400 with
    /// dropshot's own body (`{request_id, message}`), not the spec's `Error` (no `code`), and
    /// before authentication.
    PathDecodingBody,
    /// A path id longer than its `maxLength` (`userId` 300, `customerId` 64) is answered 404
    /// `not_found`; the parameter's schema makes it a 400 `validation_error`. With the other
    /// bug, this leaves the 400 the spec documents for `getUser` and `getCustomer` unreachable
    /// with a conforming body.
    PathIdTooLongIsNotFound,
    /// `offset` above the int64 range (`?offset=18446744073709551615`) is answered 200 with
    /// `pagination.offset` clamped to 9223372036854775807; the parameter is `format: int64`,
    /// so it is a 400 `validation_error` for `query/offset` (and the echo differs from the
    /// request).
    OffsetBeyondInt64Accepted,
    /// Unlinking a customer's contact person (`DELETE /customers/{id}/users?userId=<contact
    /// person>`) is a 204 that leaves `contactPersonUserId` and `contactPerson` (now without
    /// `role`) on the customer while `users` no longer has them; the spec says the contact
    /// person "is also a linked user", and allows no refusal (the operation's only 409s are
    /// the idempotency ones), so the contact person must go with the link.
    ContactPersonLeftUnlinked,
    /// Not the server's: the generated client's path encoding (progenitor-client 0.15's
    /// `encode_path`) leaves `\` as it is, and the URL parser reads a `\` in an http URL as
    /// `/`. So `client.get_user().user_id("rid_a\\b")` asks for `/users/rid_a/b`, which the
    /// router answers 404 with its own body; the client then fails to parse it. Any
    /// `referenceId` with a backslash cannot be looked up through the client.
    ClientPathBackslash,
    /// A keyed request whose body is too large (413) is fingerprinted as if its body were
    /// empty (`JsonBody::bytes` is empty when the body could not be read), so a later request
    /// with the same key and an empty body is taken for an identical retry and gets the kept
    /// 413, instead of 409 `idempotency_key_mismatch` (the bodies differ).
    UnreadBodyFingerprintedAsEmpty,
}

pub const KNOWN_BUGS: &[Bug] = &[Bug::PathDecodingBody];

/// Asserts `conforming`, or, while `bug` is known, that it is still false.
pub fn conforms(bug: Bug, conforming: bool, what: &str) {
    if KNOWN_BUGS.contains(&bug) {
        assert!(
            !conforming,
            "{bug:?} no longer reproduces ({what}): remove it from KNOWN_BUGS"
        );
    } else {
        assert!(conforming, "{what}");
    }
}

impl Harness {
    /// [`Harness::finish`] for a test of a known bug that breaks the spec on the wire: while
    /// the bug is known, every violation must be one `is_the_bug` recognises, and there must
    /// be at least one.
    pub async fn finish_with_known(mut self, bug: Bug, is_the_bug: impl Fn(&str) -> bool) {
        if !KNOWN_BUGS.contains(&bug) {
            return self.finish().await;
        }
        let (_, violations) = self.shut_down().await;
        assert!(
            !violations.is_empty(),
            "{bug:?} no longer reproduces: remove it from KNOWN_BUGS"
        );
        let other: Vec<&String> = violations.iter().filter(|v| !is_the_bug(v)).collect();
        assert!(other.is_empty(), "violations besides {bug:?}:\n  {other:?}");
    }
}

#[cfg(test)]
mod tests {
    use std::panic::AssertUnwindSafe;

    use futures::FutureExt;

    use super::*;

    #[tokio::test]
    async fn finish_fails_on_an_exchange_that_breaks_the_spec() {
        let h = Harness::start().await;
        // The server's unpublished `GET /openapi.yaml` is a 200 on a path the spec does not
        // have: exactly what the proxy must refuse to let pass.
        let response = h.http().get(h.url("/openapi.yaml")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let outcome = AssertUnwindSafe(h.finish()).catch_unwind().await;
        let message = *outcome
            .expect_err("finish must fail")
            .downcast::<String>()
            .expect("a formatted panic message");
        assert!(message.contains("GET /openapi.yaml -> 200"), "{message}");
    }

    #[tokio::test]
    async fn finish_fails_when_nothing_went_through_the_proxy() {
        let h = Harness::start().await;
        let outcome = AssertUnwindSafe(h.finish()).catch_unwind().await;
        assert!(outcome.is_err());
    }

    #[test]
    fn a_harness_dropped_without_finish_panics() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(async {
                let h = Harness::start().await;
                user(&h.client(Acme), "Unchecked").await;
            })
        }));
        let message = *outcome
            .expect_err("dropping an unfinished harness must panic")
            .downcast::<String>()
            .expect("a formatted panic message");
        assert!(
            message.contains("without `harness.finish().await`"),
            "{message}"
        );
    }

    #[test]
    fn conforms_flips_for_known_bugs() {
        let known = KNOWN_BUGS[0];
        conforms(known, false, "still broken");
        assert!(std::panic::catch_unwind(|| conforms(known, true, "fixed")).is_err());
    }
}
