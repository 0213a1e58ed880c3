//! Webhook delivery: `customer.created` and `customer.updated` (the spec's `x-webhooks`), sent
//! to the endpoints the operator configured per tenant.
//!
//! - **After the change, never in its way.** A handler emits an event once its change is
//!   stored ([`Webhooks::emit`] does not wait and cannot fail the call); a replayed request
//!   (same idempotency key) runs no handler, so it emits nothing.
//! - **At least once.** Each event is delivered by a task of its own until the receiver answers
//!   2xx: a failed attempt (another status, a redirect, which is never followed, a connection
//!   error, no answer within [`DeliveryPolicy::attempt_timeout`]) is retried after an
//!   exponential backoff with full jitter, as long as the next attempt falls within the
//!   horizon (24 hours by default, measured with the server's [`Clock`]). Every attempt sends
//!   the same body, so the same `eventId`.
//! - **Bounded.** A tenant has at most [`DeliveryPolicy::queue`] events outstanding, and at
//!   most [`DeliveryPolicy::concurrency`] attempts in flight; an event beyond the bound is
//!   dropped, and counted and logged as given up.
//! - **Signed.** Every attempt carries `Connect-Signature: t=<unix seconds>,v1=<hex>`, the
//!   HMAC-SHA256 of the timestamp, `.` and the body under the tenant's secret, made by the
//!   receiver crate's own [`connect_webhooks::signature::sign`].
//! - **Drained.** On shutdown ([`Webhooks::drain`]) events waiting for a retry are tried once
//!   more at once, and whatever has not been delivered when the deadline passes is given up.
//!   Delivered, retried and given-up counts are logged with each outcome and at the end.
//!
//! Only the operator names endpoints (`--webhook TENANT=URL`): no request can point the server
//! at an address.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use serde::Serialize;
use tokio::sync::{Notify, Semaphore};

use crate::auth::Tenant;
use crate::clock::Clock;
use connect_types as types;

/// A tenant's endpoint: where its events go and the secret they are signed with.
#[derive(Clone)]
pub struct Endpoint {
    /// The base URL; a webhook's deliveries go to `<url>/<webhook name>`.
    pub url: reqwest::Url,
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret is never printed.
        f.debug_struct("Endpoint")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// An endpoint at `url` (`http` or `https`, with a host), signing with `secret`.
    pub fn new(url: &str, secret: impl Into<Vec<u8>>) -> Result<Self, String> {
        let url = reqwest::Url::parse(url).map_err(|error| format!("not a URL: {error}"))?;
        if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
            return Err("expected an http:// or https:// URL with a host".to_string());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("expected a URL without a query or fragment".to_string());
        }
        let secret = secret.into();
        if secret.is_empty() {
            return Err("the signing secret is empty".to_string());
        }
        Ok(Self { url, secret })
    }

    /// Where the webhook `name` is delivered.
    pub fn url_of(&self, name: &str) -> String {
        format!("{}/{name}", self.url.as_str().trim_end_matches('/'))
    }
}

/// How events are delivered.
#[derive(Clone, Copy, Debug)]
pub struct DeliveryPolicy {
    /// Events one tenant may have outstanding (not yet delivered or given up).
    pub queue: usize,
    /// Attempts in flight at once for one tenant.
    pub concurrency: usize,
    /// The wait before the first retry; each later one doubles it, up to `max_backoff`, and
    /// the actual wait is drawn uniformly below it (full jitter).
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// How long after the event an attempt may still start.
    pub horizon: Duration,
    /// How long an attempt waits for the receiver's answer.
    pub attempt_timeout: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            queue: 1_000,
            concurrency: 4,
            first_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(3_600),
            horizon: Duration::from_secs(24 * 3_600),
            attempt_timeout: Duration::from_secs(10),
        }
    }
}

/// What delivery has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Events acknowledged by their receiver.
    pub delivered: u64,
    /// Failed attempts that were retried.
    pub retried: u64,
    /// Events that will not be delivered: the horizon passed, the queue was full, or the
    /// server stopped first.
    pub given_up: u64,
}

#[derive(Default)]
struct Counters {
    delivered: AtomicU64,
    retried: AtomicU64,
    given_up: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> Counts {
        Counts {
            delivered: self.delivered.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            given_up: self.given_up.load(Ordering::Relaxed),
        }
    }
}

struct Route {
    endpoint: Endpoint,
    outstanding: Arc<Semaphore>,
    in_flight: Arc<Semaphore>,
}

/// The server's webhook deliveries (none when no endpoint is configured).
pub struct Webhooks {
    routes: BTreeMap<String, Route>,
    policy: DeliveryPolicy,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    log: slog::Logger,
    counters: Arc<Counters>,
    /// Set by [`Webhooks::drain`]: new events are refused, and retries happen at once.
    draining: AtomicBool,
    drain_now: Notify,
    tasks: std::sync::Mutex<tokio::task::JoinSet<()>>,
}

impl Webhooks {
    /// Deliveries to `endpoints` (tenant name to endpoint).
    pub fn new(
        endpoints: BTreeMap<String, Endpoint>,
        policy: DeliveryPolicy,
        clock: Arc<dyn Clock>,
        log: slog::Logger,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(policy.attempt_timeout)
            .user_agent(concat!(
                "connect-server/",
                env!("CARGO_PKG_VERSION"),
                " webhooks"
            ))
            .build()?;
        let routes = endpoints
            .into_iter()
            .map(|(tenant, endpoint)| {
                let route = Route {
                    endpoint,
                    outstanding: Arc::new(Semaphore::new(policy.queue.max(1))),
                    in_flight: Arc::new(Semaphore::new(policy.concurrency.max(1))),
                };
                (tenant, route)
            })
            .collect();
        Ok(Self {
            routes,
            policy,
            clock,
            http,
            log,
            counters: Arc::default(),
            draining: AtomicBool::new(false),
            drain_now: Notify::new(),
            tasks: std::sync::Mutex::new(tokio::task::JoinSet::new()),
        })
    }

    /// What has been done so far.
    pub fn counts(&self) -> Counts {
        self.counters.snapshot()
    }

    /// `customer.created`, for a customer just stored.
    pub fn customer_created(self: &Arc<Self>, tenant: &Tenant, customer: &types::Customer) {
        // A tenant without an endpoint costs a lookup, not a copy of the customer.
        let Some(route) = self.routes.get(&*tenant.0) else {
            return;
        };
        let event = types::CustomerCreatedEvent {
            data: customer.clone(),
            event_id: uuid::Uuid::new_v4(),
            occurred_at: customer.created_at,
            type_: types::CustomerCreatedEventType::CustomerCreated,
        };
        self.emit(
            route,
            tenant,
            &event.type_.to_string(),
            event.event_id,
            &event,
        );
    }

    /// `customer.updated`, for a customer whose change was just stored.
    pub fn customer_updated(self: &Arc<Self>, tenant: &Tenant, customer: &types::Customer) {
        let Some(route) = self.routes.get(&*tenant.0) else {
            return;
        };
        let event = types::CustomerUpdatedEvent {
            data: customer.clone(),
            event_id: uuid::Uuid::new_v4(),
            occurred_at: customer.updated_at,
            type_: types::CustomerUpdatedEventType::CustomerUpdated,
        };
        self.emit(
            route,
            tenant,
            &event.type_.to_string(),
            event.event_id,
            &event,
        );
    }

    /// Queues `event` (the webhook `name`'s) for the tenant's endpoint, `route`.
    fn emit(
        self: &Arc<Self>,
        route: &Route,
        tenant: &Tenant,
        name: &str,
        id: uuid::Uuid,
        event: &impl Serialize,
    ) {
        let log = self.log.new(slog::o!("webhook" => name.to_string(),
            "event_id" => id.to_string(), "tenant" => tenant.0.to_string()));
        if self.draining.load(Ordering::SeqCst) {
            self.give_up(&log, "the server is stopping");
            return;
        }
        let Ok(permit) = route.outstanding.clone().try_acquire_owned() else {
            self.give_up(&log, "the tenant's delivery queue is full");
            return;
        };
        let body = match serde_json::to_vec(event) {
            Ok(body) => body,
            Err(error) => {
                self.give_up(&log, &format!("the event does not serialize: {error}"));
                return;
            }
        };
        let delivery = Delivery {
            url: route.endpoint.url_of(name),
            secret: route.endpoint.secret.clone(),
            in_flight: route.in_flight.clone(),
            body,
            log,
            started: self.clock.now(),
        };
        let this = self.clone();
        self.tasks
            .lock()
            .expect("webhook tasks lock")
            .spawn(async move {
                this.deliver(delivery).await;
                drop(permit);
            });
    }

    fn give_up(&self, log: &slog::Logger, why: &str) {
        let given_up = self.counters.given_up.fetch_add(1, Ordering::Relaxed) + 1;
        slog::warn!(log, "webhook event given up"; "reason" => why, "given_up" => given_up);
    }

    /// Attempts until delivered or past the horizon.
    async fn deliver(&self, delivery: Delivery) {
        let mut backoff = self.policy.first_backoff;
        for attempt in 1u32.. {
            let outcome = {
                let _slot = delivery.in_flight.acquire().await;
                self.attempt(&delivery).await
            };
            let failure = match outcome {
                Ok(()) => {
                    let delivered = self.counters.delivered.fetch_add(1, Ordering::Relaxed) + 1;
                    slog::info!(delivery.log, "webhook event delivered";
                        "attempts" => attempt, "delivered" => delivered);
                    return;
                }
                Err(failure) => failure,
            };
            let wait = jittered(backoff);
            backoff = (backoff * 2).min(self.policy.max_backoff);
            let elapsed = (self.clock.now() - delivery.started)
                .to_std()
                .unwrap_or_default();
            let draining = self.draining.load(Ordering::SeqCst);
            if elapsed + wait > self.policy.horizon || (draining && attempt > 1) {
                let why = if draining {
                    format!("the server is stopping; last attempt: {failure}")
                } else {
                    format!("past the delivery horizon after {attempt} attempts; last: {failure}")
                };
                self.give_up(&delivery.log, &why);
                return;
            }
            let retried = self.counters.retried.fetch_add(1, Ordering::Relaxed) + 1;
            slog::info!(delivery.log, "webhook attempt failed, retrying";
                "attempt" => attempt, "error" => %failure, "retry_in_ms" => wait.as_millis(),
                "retried" => retried);
            if !draining {
                let drain = self.drain_now.notified();
                tokio::pin!(drain);
                // A drain that began before `notified` was registered is seen by the flag.
                drain.as_mut().enable();
                if !self.draining.load(Ordering::SeqCst) {
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = drain => {}
                    }
                }
            }
        }
    }

    /// One attempt: the signed body, POSTed; `Ok` for a 2xx answer.
    async fn attempt(&self, delivery: &Delivery) -> Result<(), String> {
        // Signed at the wall-clock time of the attempt, which receivers check against theirs
        // (the server's clock, which tests move, times the horizon).
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        let signature =
            connect_webhooks::signature::sign(&delivery.secret, timestamp, &delivery.body);
        let response = self
            .http
            .post(&delivery.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(connect_webhooks::SIGNATURE_HEADER, signature)
            .body(delivery.body.clone())
            .send()
            .await
            .map_err(|error| format!("no answer: {error}"))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_redirection() {
            Err(format!("answered {status} (redirects are not followed)"))
        } else {
            Err(format!("answered {status}"))
        }
    }

    /// Stops taking events, tries every one waiting for a retry once more, and waits for the
    /// outstanding ones until `deadline`; what is left is given up. Logs the counts.
    pub async fn drain(&self, deadline: Duration) -> Counts {
        self.draining.store(true, Ordering::SeqCst);
        self.drain_now.notify_waiters();
        let mut tasks = std::mem::take(&mut *self.tasks.lock().expect("webhook tasks lock"));
        let finished = tokio::time::timeout(deadline, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            let left = tasks.len() as u64;
            tasks.abort_all();
            self.counters.given_up.fetch_add(left, Ordering::Relaxed);
            slog::warn!(self.log, "webhook events undelivered at shutdown"; "events" => left);
        }
        let counts = self.counts();
        slog::info!(self.log, "webhook deliveries"; "delivered" => counts.delivered,
            "retried" => counts.retried, "given_up" => counts.given_up);
        counts
    }
}

struct Delivery {
    url: String,
    secret: Vec<u8>,
    in_flight: Arc<Semaphore>,
    body: Vec<u8>,
    log: slog::Logger,
    started: chrono::DateTime<chrono::Utc>,
}

/// A wait drawn uniformly from `[0, backoff]` (full jitter), so that receivers recovering from
/// an outage are not hit by every retry at once.
fn jittered(backoff: Duration) -> Duration {
    let nanos = u64::try_from(backoff.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::rng().random_range(0..=nanos))
}

/// The endpoints from `--webhook` URLs and `--webhook-secret` secrets (tenant, value pairs):
/// every URL needs a secret, every secret a URL, and every tenant must be a configured one.
pub fn endpoints(
    urls: Vec<(String, String)>,
    secrets: Vec<(String, String)>,
    tenants: &[String],
) -> Result<BTreeMap<String, Endpoint>, String> {
    let mut secrets: BTreeMap<String, String> = secrets.into_iter().collect();
    let mut endpoints = BTreeMap::new();
    for (tenant, url) in urls {
        if !tenants.contains(&tenant) {
            return Err(format!(
                "--webhook names the tenant `{tenant}`, which has no API key"
            ));
        }
        let secret = secrets.remove(&tenant).ok_or_else(|| {
            format!(
                "the tenant `{tenant}` has a webhook endpoint but no signing secret: give it one \
                 with --webhook-secret {tenant}=SECRET (or CONNECT_WEBHOOK_SECRETS)"
            )
        })?;
        let endpoint = Endpoint::new(&url, secret)
            .map_err(|error| format!("--webhook {tenant}=...: {error}"))?;
        if endpoints.insert(tenant.clone(), endpoint).is_some() {
            return Err(format!("--webhook names the tenant `{tenant}` twice"));
        }
    }
    if let Some(tenant) = secrets.keys().next() {
        return Err(format!(
            "the tenant `{tenant}` has a webhook signing secret but no endpoint (--webhook {tenant}=URL)"
        ));
    }
    Ok(endpoints)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_need_a_secret_a_known_tenant_and_an_http_url() {
        let tenants = vec!["acme".to_string()];
        let pair = |t: &str, v: &str| (t.to_string(), v.to_string());
        let ok = endpoints(
            vec![pair("acme", "http://127.0.0.1:9/hooks/")],
            vec![pair("acme", "s3cret")],
            &tenants,
        )
        .unwrap();
        assert_eq!(
            ok["acme"].url_of("customer.created"),
            "http://127.0.0.1:9/hooks/customer.created"
        );
        assert!(!format!("{:?}", ok["acme"]).contains("s3cret"));
        let no_secret = endpoints(vec![pair("acme", "http://h")], vec![], &tenants).unwrap_err();
        assert!(no_secret.contains("no signing secret"), "{no_secret}");
        let unknown = endpoints(
            vec![pair("other", "http://h")],
            vec![pair("other", "s")],
            &tenants,
        )
        .unwrap_err();
        assert!(unknown.contains("no API key"), "{unknown}");
        let scheme = endpoints(
            vec![pair("acme", "file:///etc")],
            vec![pair("acme", "s")],
            &tenants,
        )
        .unwrap_err();
        assert!(scheme.contains("http://"), "{scheme}");
        let orphan = endpoints(vec![], vec![pair("acme", "s")], &tenants).unwrap_err();
        assert!(orphan.contains("no endpoint"), "{orphan}");
        let parse = |text| crate::auth::parse_tenant_pair(text, "URL");
        assert!(parse("acme").is_err());
        assert_eq!(parse("acme=x=y").unwrap(), pair("acme", "x=y"));
    }

    #[test]
    fn backoff_is_jittered_below_its_bound() {
        let bound = Duration::from_millis(100);
        let waits: Vec<Duration> = (0..200).map(|_| jittered(bound)).collect();
        assert!(waits.iter().all(|w| *w <= bound));
        // Full jitter spreads the waits: not all in the upper or lower half.
        assert!(waits.iter().any(|w| *w < bound / 2));
        assert!(waits.iter().any(|w| *w > bound / 2));
    }
}
