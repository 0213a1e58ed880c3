//! The Connect API reference server: the generated [`connect_api::ConnectApi`] trait
//! implemented over a [`store::Store`] (in memory here).
//!
//! Handlers are thin: authenticate, read the (already validated) parameters and body, go
//! through the idempotency table for writes, call the store. The rules live in the store.
//! This crate is hand-written; it depends on the generated crates, never the other way round.

pub mod auth;
pub mod clock;
mod handlers;
pub mod idempotency;
pub mod logging;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use dropshot::{ApiDescription, ConfigDropshot, HandlerTaskMode, HttpServer, ServerBuilder};

use crate::auth::ApiKeys;
use crate::clock::Clock;
use crate::idempotency::IdempotencyKeys;
use crate::store::Store;

/// The largest request body accepted. The largest valid request is a `createCustomer` with
/// every field at its bound: 50 metadata entries of 64 + 512 characters, two addresses, 100
/// user ids and 1,000 characters of shipping instructions. With every character one that JSON
/// escapes to 6 bytes it is about 185 KiB (the test
/// `a_body_over_the_limit_is_payload_too_large_and_the_largest_valid_request_fits` builds it).
pub const REQUEST_BODY_MAX_BYTES: usize = 256 * 1024;

/// The source spec, served at `GET /openapi.yaml`.
pub const SPEC_YAML: &str = include_str!("../../../openapi/connect.yaml");

/// Everything a request handler can reach.
pub struct ServerContext {
    pub store: Arc<dyn Store>,
    pub keys: ApiKeys,
    pub idempotency: Arc<IdempotencyKeys>,
}

/// How to run a server.
pub struct Config {
    pub bind: SocketAddr,
    pub keys: ApiKeys,
    pub clock: Arc<dyn Clock>,
    pub log: slog::Logger,
}

/// The whole API: the generated trait's endpoints plus the unpublished `GET /openapi.yaml`.
pub fn api() -> anyhow::Result<ApiDescription<ServerContext>> {
    let mut api = connect_api::connect_api_mod::api_description::<handlers::ConnectServer>()
        .map_err(|error| anyhow::anyhow!("registering the Connect API: {error}"))?;
    api.register(handlers::openapi_yaml)
        .map_err(|error| anyhow::anyhow!("registering /openapi.yaml: {error}"))?;
    Ok(api)
}

/// Starts a server with a fresh in-memory store. It is accepting connections when this returns
/// (`local_addr` gives the bound address, useful with port 0).
pub fn start(config: Config) -> anyhow::Result<HttpServer<ServerContext>> {
    let store = Arc::new(store::InMemoryStore::new(config.clock.clone()));
    start_with_store(config, store)
}

/// How often expired idempotency keys are swept, beside the sweeping done on every use.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Starts a server over the given store (another backend, or a wrapper that injects faults).
/// Must be called within a tokio runtime.
pub fn start_with_store(
    config: Config,
    store: Arc<dyn Store>,
) -> anyhow::Result<HttpServer<ServerContext>> {
    let idempotency = IdempotencyKeys::new(config.clock);
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
    let context = ServerContext {
        store,
        keys: config.keys,
        idempotency,
    };
    let dropshot = ConfigDropshot {
        bind_address: config.bind,
        default_request_body_max_bytes: REQUEST_BODY_MAX_BYTES,
        // A write whose client hangs up still completes, so its idempotency key keeps the result.
        default_handler_task_mode: HandlerTaskMode::Detached,
        ..Default::default()
    };
    ServerBuilder::new(api()?, context, config.log)
        .config(dropshot)
        .start()
        .with_context(|| format!("starting the server on {}", config.bind))
}
