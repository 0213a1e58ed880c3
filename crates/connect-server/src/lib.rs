//! The Connect API reference server: the generated [`connect_api::ConnectApi`] trait
//! implemented over a [`store::Store`] (in memory here).
//!
//! Handlers are thin: authenticate, read the (already validated) parameters and body, go
//! through the idempotency table for writes, call the store. The rules live in the store.
//! This crate is hand-written; it depends on the generated crates, never the other way round.

pub mod auth;
pub mod clock;
pub mod connections;
pub mod cursor;
mod handlers;
pub mod idempotency;
pub mod logging;
mod sharded;
pub mod store;
pub mod webhooks;
pub mod writes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use dropshot::{ApiDescription, ConfigDropshot, HandlerTaskMode, HttpServer, ServerBuilder};

use crate::auth::ApiKeys;
use crate::clock::Clock;
use crate::idempotency::IdempotencyKeys;
use crate::logging::RequestTenants;
use crate::store::{Quotas, Store};

/// The largest request body accepted. The largest valid request is a `createCustomer` with
/// every field at its bound: 50 metadata entries of 64 + 512 characters, two addresses, 100
/// user ids and 1,000 characters of shipping instructions. With every character one that JSON
/// escapes to 6 bytes it is about 185 KiB (the test
/// `a_body_over_the_limit_is_payload_too_large_and_the_largest_valid_request_fits` builds it).
pub const REQUEST_BODY_MAX_BYTES: usize = 256 * 1024;

/// How long a request body may take to arrive, from the moment its handler starts reading it
/// (after authentication): a slower one is answered 408 `request_timeout`.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many bytes of list pages may be built at once, across all requests: a page waits for
/// room before it is built, so that many concurrent large pages do not take all memory.
pub const PAGE_BYTES_IN_FLIGHT: usize = 64 * 1024 * 1024;

/// The bounds a server holds to; each has a flag in `connect-server`.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// See [`BODY_TIMEOUT`].
    pub body_timeout: Duration,
    /// See [`connections::IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
    /// The connection cap ([`connections::cap`]) when the process set one: near it, idle
    /// connections are closed sooner.
    pub max_connections: Option<u64>,
    /// Users and customers per tenant, for the store [`start`] makes.
    pub quotas: Quotas,
    /// See [`PAGE_BYTES_IN_FLIGHT`].
    pub page_bytes_in_flight: usize,
    /// Bounds of each tenant's idempotency keys.
    pub idempotency: idempotency::Limits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_timeout: BODY_TIMEOUT,
            idle_timeout: connections::IDLE_TIMEOUT,
            max_connections: None,
            quotas: Quotas::default(),
            page_bytes_in_flight: PAGE_BYTES_IN_FLIGHT,
            idempotency: idempotency::Limits::default(),
        }
    }
}

/// The source spec, served at `GET /openapi.yaml`.
pub const SPEC_YAML: &str = include_str!("../../../openapi/connect.yaml");

/// Everything a request handler can reach.
pub struct ServerContext {
    pub store: Arc<dyn Store>,
    pub keys: ApiKeys,
    pub idempotency: Arc<IdempotencyKeys>,
    /// Where handlers note each request's tenant for its log line.
    pub tenants: Arc<RequestTenants>,
    pub body: spec_runtime::BodyPolicy,
    /// Issues and checks list cursors.
    pub cursors: cursor::Cursors,
    /// Room for list pages being built, in KiB (see [`PAGE_BYTES_IN_FLIGHT`]).
    pub pages: tokio::sync::Semaphore,
    pub limits: Limits,
    /// Delivers the webhooks' events (see [`webhooks`]).
    pub webhooks: Arc<webhooks::Webhooks>,
    /// The writes running on their own tasks (see [`writes`]).
    pub writes: Arc<writes::Writes>,
}

/// How to run a server.
pub struct Config {
    pub bind: SocketAddr,
    pub keys: ApiKeys,
    pub clock: Arc<dyn Clock>,
    pub log: slog::Logger,
    /// From [`logging::root_logger`], or [`RequestTenants::disabled`].
    pub tenants: Arc<RequestTenants>,
    pub limits: Limits,
    /// Each tenant's webhook endpoint, if it has one.
    pub webhooks: std::collections::BTreeMap<String, webhooks::Endpoint>,
    pub delivery: webhooks::DeliveryPolicy,
}

impl Config {
    /// A configuration with the default [`Limits`] and no request lines (the `tenants` of a
    /// logger from [`logging::root_logger`] enables them).
    pub fn new(bind: SocketAddr, keys: ApiKeys, clock: Arc<dyn Clock>, log: slog::Logger) -> Self {
        Self {
            bind,
            keys,
            clock,
            log,
            tenants: RequestTenants::disabled(),
            limits: Limits::default(),
            webhooks: std::collections::BTreeMap::new(),
            delivery: webhooks::DeliveryPolicy::default(),
        }
    }
}

/// The whole API: the generated trait's endpoints plus the unpublished `GET /openapi.yaml` and
/// `GET /docs` (the API reference page).
pub fn api() -> anyhow::Result<ApiDescription<ServerContext>> {
    let mut api = connect_api::connect_api_mod::api_description::<handlers::ConnectServer>()
        .map_err(|error| anyhow::anyhow!("registering the Connect API: {error}"))?;
    api.register(handlers::openapi_yaml)
        .map_err(|error| anyhow::anyhow!("registering /openapi.yaml: {error}"))?;
    api.register(handlers::docs)
        .map_err(|error| anyhow::anyhow!("registering /docs: {error}"))?;
    Ok(api)
}

/// Starts a server with a fresh in-memory store. It is accepting connections when this returns
/// (`local_addr` gives the bound address, useful with port 0).
pub fn start(config: Config) -> anyhow::Result<HttpServer<ServerContext>> {
    let store = Arc::new(store::InMemoryStore::with_quotas(
        config.clock.clone(),
        config.limits.quotas,
    ));
    start_with_store(config, store)
}

/// The page budget in permits of 1 KiB (a semaphore counts in `u32`-sized steps).
pub(crate) fn page_permits(bytes: usize) -> usize {
    (bytes / 1024).clamp(1, tokio::sync::Semaphore::MAX_PERMITS)
}

/// How often expired idempotency keys are swept, beside the sweeping done on every use.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Starts a server over the given store (another backend, or a wrapper that injects faults).
/// Must be called within a tokio runtime.
pub fn start_with_store(
    config: Config,
    store: Arc<dyn Store>,
) -> anyhow::Result<HttpServer<ServerContext>> {
    let webhooks = Arc::new(webhooks::Webhooks::new(
        config.webhooks,
        config.delivery,
        config.clock.clone(),
        config.log.new(slog::o!("component" => "webhooks")),
    )?);
    let idempotency = IdempotencyKeys::with_limits(config.clock, config.limits.idempotency);
    // The sweep holds the table weakly: it ends with the server.
    let table = Arc::downgrade(&idempotency);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        every.tick().await;
        loop {
            every.tick().await;
            let Some(table) = table.upgrade() else { break };
            table.sweep();
        }
    });
    let limits = config.limits;
    let context = ServerContext {
        store,
        keys: config.keys,
        idempotency,
        tenants: config.tenants,
        body: spec_runtime::BodyPolicy {
            timeout: limits.body_timeout,
            ..Default::default()
        },
        cursors: cursor::Cursors::new(),
        pages: tokio::sync::Semaphore::new(page_permits(limits.page_bytes_in_flight)),
        limits,
        webhooks,
        writes: Default::default(),
    };
    let dropshot = ConfigDropshot {
        bind_address: config.bind,
        default_request_body_max_bytes: REQUEST_BODY_MAX_BYTES,
        // A handler runs in its request's task; a write runs on its own (see [`writes`]), so
        // that one whose client hangs up still completes and its idempotency key keeps the
        // result.
        default_handler_task_mode: HandlerTaskMode::CancelOnDisconnect,
        ..Default::default()
    };
    let server = ServerBuilder::new(api()?, context, config.log)
        .config(dropshot)
        .start()
        .with_context(|| format!("starting the server on {}", config.bind))?;
    // The janitor, like the sweep, holds the server's state weakly and ends with it.
    let alive = Arc::downgrade(&server.app_private().idempotency);
    let port = server.local_addr().port();
    let (idle, cap) = (limits.idle_timeout, limits.max_connections);
    let mut janitor = connections::Janitor::new().context("opening /proc/self/fd")?;
    let every = (idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(1));
    std::thread::Builder::new()
        .name("connection-janitor".to_string())
        .spawn(move || {
            while alive.upgrade().is_some() {
                std::thread::sleep(every);
                janitor.close_idle(port, idle, cap);
            }
        })
        .context("starting the connection janitor")?;
    Ok(server)
}
