//! `connect-server`: the Connect API on an in-memory store.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Parser;
use connect_server::auth::{ApiKeys, parse_tenant_pair, random_key};
use connect_server::clock::SystemClock;
use connect_server::logging::{LogFormat, root_logger};
use connect_server::store::Quotas;
use connect_server::{Limits, connections, idempotency, webhooks};

/// mimalloc: the log writer frees what request threads allocated (each request's logger), and
/// glibc's malloc takes the allocating thread's arena lock for that, which request threads
/// then wait on.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The Connect API reference server (users, customers and their links), in memory.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    /// Address to listen on. A non-loopback address needs keys configured explicitly.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// An API key and its tenant, as TENANT=KEY; repeat for several. Without any (here or in
    /// CONNECT_API_KEYS), a `dev` tenant gets a random key, printed at startup.
    /// (Parsed after clap, so that a malformed value, which may be a key, is never echoed.)
    #[arg(long = "api-key", value_name = "TENANT=KEY")]
    api_keys: Vec<String>,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Terminal)]
    log_format: LogFormat,
    /// Log level: critical, error, warning, info, debug or trace. At info, one line per
    /// request.
    #[arg(long, default_value = "info", value_parser = parse_level)]
    log_level: slog::Level,
    /// Connections open at once; more wait in the kernel's accept queue. Set through the
    /// process's open-file limit (clamped to its hard limit).
    #[arg(long, default_value_t = connections::MAX_CONNECTIONS)]
    max_connections: u64,
    /// Seconds a request body may take to arrive; a slower one is answered 408.
    #[arg(long, value_name = "SECONDS", default_value_t = connect_server::BODY_TIMEOUT.as_secs_f64(),
        value_parser = parse_seconds)]
    body_timeout: f64,
    /// Seconds a connection may stay with no bytes in either direction (a new one that sends
    /// nothing, a keep-alive one between requests) before it is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = connections::IDLE_TIMEOUT.as_secs_f64(),
        value_parser = parse_seconds)]
    idle_timeout: f64,
    /// Users one tenant may hold; one more is answered 409 `quota_exceeded`.
    #[arg(long, default_value_t = connect_server::store::USERS_PER_TENANT)]
    max_users_per_tenant: usize,
    /// Customers one tenant may hold; one more is answered 409 `quota_exceeded`.
    #[arg(long, default_value_t = connect_server::store::CUSTOMERS_PER_TENANT)]
    max_customers_per_tenant: usize,
    /// Memory for one tenant's idempotency keys and kept responses, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = idempotency::KEPT_BYTES_PER_TENANT >> 20)]
    idempotency_memory: usize,
    /// A tenant's webhook endpoint, as TENANT=URL; repeat for several tenants. The tenant's
    /// `customer.created` and `customer.updated` events are POSTed to `URL/<event name>`,
    /// signed with its secret (--webhook-secret).
    #[arg(long = "webhook", value_name = "TENANT=URL")]
    webhooks: Vec<String>,
    /// A tenant's webhook signing secret, as TENANT=SECRET; repeat for several. Also read from
    /// CONNECT_WEBHOOK_SECRETS (comma-separated), which keeps secrets out of the process list.
    #[arg(long = "webhook-secret", value_name = "TENANT=SECRET")]
    webhook_secrets: Vec<String>,
    /// Seconds a graceful shutdown waits for webhook deliveries still outstanding.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = parse_seconds)]
    webhook_drain: f64,
    /// Memory for list pages being built at once, across all requests, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = connect_server::PAGE_BYTES_IN_FLIGHT >> 20)]
    page_memory: usize,
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 86_400.0 => Ok(seconds),
        _ => Err(format!(
            "expected seconds, more than 0 and at most 86400, got {text:?}"
        )),
    }
}

/// `TENANT=VALUE` pairs of a repeatable flag, then of the comma-separated environment
/// variable `variable`. A malformed item is named by where it came from, never shown: it may
/// be a secret.
fn tenant_pairs(
    flags: &[String],
    flag: &str,
    variable: &str,
    value: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let listed = std::env::var(variable).unwrap_or_default();
    let from_flags = flags.iter().map(|item| (flag, item.as_str()));
    let from_variable = listed
        .split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| (variable, item));
    from_flags
        .chain(from_variable)
        .map(|(source, item)| {
            parse_tenant_pair(item, value)
                .map_err(|error| anyhow::anyhow!("{source}: {error} (value not shown)"))
        })
        .collect()
}

fn parse_level(text: &str) -> Result<slog::Level, String> {
    text.parse()
        .map_err(|()| format!("unknown log level {text:?}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // A malformed value is never echoed: it may be a key typed without its tenant.
    let mut keys = tenant_pairs(&cli.api_keys, "--api-key", "CONNECT_API_KEYS", "KEY")?;
    if keys.is_empty() {
        if !cli.bind.ip().is_loopback() {
            bail!(
                "refusing to listen on {} with a generated key: configure keys with --api-key TENANT=KEY \
                 or CONNECT_API_KEYS",
                cli.bind
            );
        }
        let key = random_key();
        println!("No API key configured: tenant `dev` gets a new random key. In another shell:");
        println!();
        println!("    export CONNECT_API_KEY={key}");
        println!(
            "    curl -H \"X-API-Key: $CONNECT_API_KEY\" http://{}/users",
            cli.bind
        );
        println!();
        keys.push(("dev".to_string(), key));
    }
    let logging = root_logger(cli.log_format, cli.log_level, Box::new(std::io::stderr()));
    let log = logging.log.clone();
    let keys = ApiKeys::new(keys);
    if let Some((first, second)) = keys.shared_key() {
        bail!(
            "tenants `{first}` and `{second}` are configured with the same API key: give each its own"
        );
    }
    let cap = connections::cap(cli.max_connections).context("setting the open-file limit")?;
    if cap.clamped {
        slog::warn!(log, "the open-file hard limit allows fewer connections than asked for";
            "asked" => cli.max_connections, "allowed" => cap.connections);
    }
    let limits = Limits {
        body_timeout: std::time::Duration::from_secs_f64(cli.body_timeout),
        idle_timeout: std::time::Duration::from_secs_f64(cli.idle_timeout),
        max_connections: Some(cap.connections),
        quotas: Quotas {
            users: cli.max_users_per_tenant,
            customers: cli.max_customers_per_tenant,
        },
        page_bytes_in_flight: cli.page_memory.saturating_mul(1 << 20),
        idempotency: idempotency::Limits {
            bytes: cli.idempotency_memory.saturating_mul(1 << 20),
            ..Default::default()
        },
    };
    let tenants: Vec<String> = keys.tenants().map(ToString::to_string).collect();
    let urls = cli
        .webhooks
        .iter()
        .map(|item| {
            parse_tenant_pair(item, "URL").map_err(|error| anyhow::anyhow!("--webhook: {error}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let secrets = tenant_pairs(
        &cli.webhook_secrets,
        "--webhook-secret",
        "CONNECT_WEBHOOK_SECRETS",
        "SECRET",
    )?;
    let endpoints = webhooks::endpoints(urls, secrets, &tenants).map_err(anyhow::Error::msg)?;
    let endpoint_tenants: Vec<String> = endpoints.keys().cloned().collect();
    let server = connect_server::start(connect_server::Config {
        bind: cli.bind,
        keys,
        clock: Arc::new(SystemClock),
        log: log.clone(),
        tenants: logging.tenants.clone(),
        limits,
        webhooks: endpoints,
        delivery: webhooks::DeliveryPolicy::default(),
    })?;
    slog::info!(log, "ready"; "address" => %server.local_addr(), "tenants" => tenants.join(","),
        "max_connections" => cap.connections, "webhooks" => endpoint_tenants.join(","));
    let deliveries = server.app_private().webhooks.clone();
    let writes = server.app_private().writes.clone();

    shutdown_signal().await?;
    slog::info!(log, "shutting down: finishing requests in flight");
    server
        .close()
        .await
        .map_err(|error| anyhow::anyhow!(error))
        .context("shutting down")?;
    // So are the writes whose clients hung up (they run on their own tasks).
    writes.finished().await;
    // Requests are done, so no more events: deliver what is outstanding, as far as time allows.
    deliveries
        .drain(std::time::Duration::from_secs_f64(cli.webhook_drain))
        .await;
    slog::info!(log, "stopped");
    drop(log);
    // Every line logged so far is written before the process ends.
    drop(logging);
    Ok(())
}

/// Waits for SIGINT or SIGTERM.
async fn shutdown_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("waiting for SIGINT"),
        _ = terminate.recv() => Ok(()),
    }
}
