//! Running the server: the binary's CLI, graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{ACME, Gate, start_with};

const BINARY: &str = env!("CARGO_BIN_EXE_connect-server");

#[test]
fn help_lists_the_options() {
    let output = Command::new(BINARY).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for option in ["--bind", "--api-key", "--log-format", "--log-level"] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
}

#[test]
fn a_public_bind_without_configured_keys_is_refused() {
    let output = Command::new(BINARY)
        .args(["--bind", "0.0.0.0:0"])
        .env_remove("CONNECT_API_KEYS")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0"),
        "{stderr}"
    );
}

#[test]
fn a_bad_key_flag_is_refused_without_repeating_the_value() {
    let output = Command::new(BINARY)
        .args(["--api-key", "s3cret-without-tenant"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("TENANT=KEY"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "the value was echoed: {stderr}");
}

#[test]
fn two_tenants_with_one_key_are_refused() {
    // If the check ever regressed, the server would start: bind an ephemeral port, and read
    // its log until it either exits or says it is ready (then kill it and fail).
    let mut child = Command::new(BINARY)
        .args(["--bind", "127.0.0.1:0", "--log-format", "json"])
        .env("CONNECT_API_KEYS", "a=same-key,b=same-key")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("\"msg\":\"ready\"") {
            child.kill().unwrap();
            panic!("the server started with a key shared by two tenants");
        }
        stderr.push_str(&line);
    }
    assert!(!child.wait().unwrap().success());
    assert!(
        stderr.contains("tenants `a` and `b` are configured with the same API key"),
        "{stderr}"
    );
}

/// The binary serves with keys from the environment, logs JSON lines that name the tenant and
/// never the key, and exits cleanly on SIGTERM.
#[tokio::test]
async fn the_binary_serves_logs_and_stops_on_sigterm() {
    let mut child = Command::new(BINARY)
        .args(["--bind", "127.0.0.1:0", "--log-format", "json"])
        .env("CONNECT_API_KEYS", "acme=secret-key-1,globex=secret-key-2")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    // Readiness: the "ready" line carries the bound address.
    let address = loop {
        let line = lines
            .next()
            .expect("the server logs before exiting")
            .unwrap();
        let entry: serde_json::Value = serde_json::from_str(&line).unwrap();
        if entry["msg"] == "ready" {
            assert_eq!(entry["tenants"], "acme,globex");
            break entry["address"].as_str().unwrap().to_string();
        }
    };
    let response = reqwest::Client::new()
        .post(format!("http://{address}/users"))
        .header("X-API-Key", "secret-key-1")
        .json(&json!({"name": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let log: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(child.wait().unwrap().success());
    let requests: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("\"request completed\""))
        .collect();
    assert_eq!(requests.len(), 1, "one line per request: {log:#?}");
    let entry: serde_json::Value = serde_json::from_str(requests[0]).unwrap();
    for field in ["method", "uri", "status", "latency_us", "req_id", "tenant"] {
        assert!(!entry[field].is_null(), "{field} missing from {entry}");
    }
    assert_eq!(entry["tenant"], "acme");
    assert_eq!(entry["status"], 201);
    assert!(
        log.iter().any(|l| l.contains("\"msg\":\"stopped\"")),
        "the last line is written before the process exits: {log:#?}"
    );
    assert!(
        log.iter().all(|l| !l.contains("secret-key")),
        "a key was logged"
    );
}

/// A request in flight when shutdown begins still completes.
#[tokio::test]
async fn shutdown_lets_requests_in_flight_finish() {
    let (clock, gate) = Gate::new();
    let server = start_with(clock, gate.clone());
    let (base, http) = (server.base.clone(), server.http.clone());
    let in_flight = tokio::spawn(async move {
        http.request(Method::POST, format!("{base}/users"))
            .header("X-API-Key", ACME)
            .json(&json!({"name": "Ada"}))
            .send()
            .await
    });
    gate.entered.notified().await;
    let closing = tokio::spawn(server.server.close());
    gate.release.notify_one();
    let response = in_flight.await.unwrap().expect("the request completes");
    assert_eq!(response.status(), StatusCode::CREATED);
    closing.await.unwrap().unwrap();
}
