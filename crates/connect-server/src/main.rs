//! `connect-server`: the Connect API on an in-memory store.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Parser;
use connect_server::auth::{ApiKeys, parse_key, random_key};
use connect_server::clock::SystemClock;
use connect_server::logging::{LogFormat, root_logger};

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
    /// Log level: critical, error, warning, info, debug or trace.
    #[arg(long, default_value = "info", value_parser = parse_level)]
    log_level: slog::Level,
}

fn parse_level(text: &str) -> Result<slog::Level, String> {
    text.parse()
        .map_err(|()| format!("unknown log level {text:?}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut keys = Vec::new();
    for item in &cli.api_keys {
        // The message must not repeat the value: it may be a key typed without its tenant.
        keys.push(
            parse_key(item)
                .map_err(|error| anyhow::anyhow!("--api-key: {error} (value not shown)"))?,
        );
    }
    if let Ok(list) = std::env::var("CONNECT_API_KEYS") {
        for item in list.split(',').filter(|item| !item.trim().is_empty()) {
            keys.push(
                parse_key(item).map_err(|error| {
                    anyhow::anyhow!("CONNECT_API_KEYS: {error} (value not shown)")
                })?,
            );
        }
    }
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
    let log = root_logger(cli.log_format, cli.log_level);
    let keys = ApiKeys::new(keys);
    if let Some((first, second)) = keys.shared_key() {
        bail!(
            "tenants `{first}` and `{second}` are configured with the same API key: give each its own"
        );
    }
    let tenants: Vec<String> = keys.tenants().map(ToString::to_string).collect();
    let server = connect_server::start(connect_server::Config {
        bind: cli.bind,
        keys,
        clock: Arc::new(SystemClock),
        log: log.clone(),
    })?;
    slog::info!(log, "ready"; "address" => %server.local_addr(), "tenants" => tenants.join(","));

    shutdown_signal().await?;
    slog::info!(log, "shutting down: finishing requests in flight");
    server
        .close()
        .await
        .map_err(|error| anyhow::anyhow!(error))
        .context("shutting down")?;
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
