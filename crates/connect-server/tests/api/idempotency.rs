//! `X-Idempotency-Key`: replay, mismatch, locked, expiry, 4xx replay, per-tenant scope.

use std::sync::Arc;

use chrono::Duration;
use connect_server::auth::Tenant;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{ACME, GLOBEX, Gate, start, start_with, start_with_log};

#[tokio::test]
async fn an_identical_retry_is_replayed_and_runs_nothing() {
    let server = start();
    let key = [("X-Idempotency-Key", "create-ada")];
    let body = json!({"name": "Ada", "referenceId": "crm-1"});
    let first = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body.clone()))
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert!(!first.replayed());
    let second = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body))
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert!(second.replayed());
    assert_eq!(second.body, first.body);
    assert_eq!(server.user_total().await, 1);
}

#[tokio::test]
async fn the_same_key_with_a_different_request_is_a_mismatch() {
    let server = start();
    let key = [("X-Idempotency-Key", "k")];
    server
        .send(
            Method::POST,
            "/users",
            Some(ACME),
            &key,
            Some(json!({"name": "Ada"})),
        )
        .await;
    let other_body = server
        .send(
            Method::POST,
            "/users",
            Some(ACME),
            &key,
            Some(json!({"name": "Bob"})),
        )
        .await;
    assert_eq!(other_body.status, StatusCode::CONFLICT);
    assert_eq!(other_body.code(), "idempotency_key_mismatch");
    let customer = server.customer("Acme").await;
    let other_path = server
        .send(
            Method::PUT,
            &format!("/customers/{customer}"),
            Some(ACME),
            &key,
            Some(json!({"name": "Ada"})),
        )
        .await;
    assert_eq!(other_path.code(), "idempotency_key_mismatch");
    assert_eq!(server.user_total().await, 1);
}

/// The headers that change how a request is processed are part of it: the same bytes under
/// another `Content-Type` are another request.
#[tokio::test]
async fn the_same_body_with_another_content_type_is_a_mismatch() {
    let server = start();
    let send = |content_type: &'static str| {
        server
            .http
            .post(format!("{}/users", server.base))
            .header("X-API-Key", ACME)
            .header("X-Idempotency-Key", "typed")
            .header("Content-Type", content_type)
            .body(r#"{"name": "Ada"}"#)
            .send()
    };
    assert_eq!(
        send("application/json").await.unwrap().status(),
        StatusCode::CREATED
    );
    let replay = send("application/json").await.unwrap();
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let other = send("application/json; charset=utf-8").await.unwrap();
    assert_eq!(other.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = other.json().await.unwrap();
    assert_eq!(body["code"], "idempotency_key_mismatch");
    assert_eq!(server.user_total().await, 1);
}

#[tokio::test]
async fn a_failed_first_attempt_is_replayed_too() {
    let server = start();
    let holder = server
        .post("/users", json!({"name": "Holder", "referenceId": "crm-1"}))
        .await;
    let key = [("X-Idempotency-Key", "retry-me")];
    let body = json!({"name": "Ada", "referenceId": "crm-1"});
    let first = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body.clone()))
        .await;
    assert_eq!(
        (first.status, first.code()),
        (StatusCode::CONFLICT, "conflict")
    );
    // The cause goes away: run again, the request would now succeed...
    let holder = holder.body["userId"].as_str().unwrap();
    server
        .put(&format!("/users/{holder}"), json!({"referenceId": "crm-2"}))
        .await;
    // ...but under its key it is the same request, so it gets the same answer.
    let second = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body.clone()))
        .await;
    assert_eq!(
        (second.status, second.code()),
        (StatusCode::CONFLICT, "conflict")
    );
    assert_eq!(second.body["message"], first.body["message"]);
    assert_eq!(server.user_total().await, 1);
    // A new key runs it.
    let fresh = server
        .send(
            Method::POST,
            "/users",
            Some(ACME),
            &[("X-Idempotency-Key", "new")],
            Some(body),
        )
        .await;
    assert_eq!(fresh.status, StatusCode::CREATED);
}

#[tokio::test]
async fn keys_are_scoped_per_tenant() {
    let server = start();
    let key = [("X-Idempotency-Key", "shared")];
    let a = server
        .send(
            Method::POST,
            "/users",
            Some(ACME),
            &key,
            Some(json!({"name": "Ada"})),
        )
        .await;
    let b = server
        .send(
            Method::POST,
            "/users",
            Some(GLOBEX),
            &key,
            Some(json!({"name": "Bob"})),
        )
        .await;
    assert_eq!(
        (a.status, b.status),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    assert!(!b.replayed());
    assert_ne!(a.body["userId"], b.body["userId"]);
}

#[tokio::test]
async fn keys_expire_after_24_hours_and_are_forgotten() {
    let server = start();
    let key = [("X-Idempotency-Key", "daily")];
    let body = json!({"name": "Ada"});
    server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body.clone()))
        .await;
    server
        .clock
        .advance(Duration::hours(24) - Duration::seconds(1));
    let replay = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body.clone()))
        .await;
    assert!(replay.replayed());
    let acme = Tenant("acme".into());
    assert_eq!(server.server.app_private().idempotency.len(&acme), 1);
    server.clock.advance(Duration::seconds(1));
    assert_eq!(
        server.server.app_private().idempotency.len(&acme),
        0,
        "expired keys are reclaimed"
    );
    let rerun = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body))
        .await;
    assert_eq!(rerun.status, StatusCode::CREATED);
    assert!(!rerun.replayed());
    assert_eq!(server.user_total().await, 2);
}

#[tokio::test]
async fn a_duplicate_while_the_first_is_running_is_locked() {
    let (clock, gate) = Gate::new();
    let server = Arc::new(start_with(clock, gate.clone()));
    let key = [("X-Idempotency-Key", "slow")];
    let body = json!({"name": "Ada"});

    let first = tokio::spawn({
        let server = server.clone();
        let body = body.clone();
        async move {
            server
                .send(
                    Method::POST,
                    "/users",
                    Some(ACME),
                    &[("X-Idempotency-Key", "slow")],
                    Some(body),
                )
                .await
        }
    });
    gate.entered.notified().await;
    let duplicate = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body.clone()))
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_eq!(duplicate.code(), "idempotency_key_locked");
    let different = server
        .send(
            Method::POST,
            "/users",
            Some(ACME),
            &key,
            Some(json!({"name": "Bob"})),
        )
        .await;
    assert_eq!(different.code(), "idempotency_key_mismatch");

    gate.release.notify_one();
    let first = first.await.unwrap();
    assert_eq!(first.status, StatusCode::CREATED);
    let replay = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body))
        .await;
    assert!(replay.replayed());
    assert_eq!(replay.body, first.body);
}

/// Tells when dropshot gives up on a request whose client hung up.
struct Cancellations(Arc<tokio::sync::Notify>);

impl slog::Drain for Cancellations {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &slog::Record<'_>, _: &slog::OwnedKVList) -> Result<(), slog::Never> {
        if record
            .msg()
            .to_string()
            .starts_with("request handling cancelled")
        {
            self.0.notify_one();
        }
        Ok(())
    }
}

/// Handlers run in their request's task, which dropshot drops when the client hangs up; a
/// write runs on its own and still ends, keeping its outcome under its key.
#[tokio::test]
async fn a_keyed_write_whose_client_hangs_up_still_completes_under_its_key() {
    use tokio::io::AsyncWriteExt as _;

    let (clock, gate) = Gate::new();
    let cancelled = Arc::new(tokio::sync::Notify::new());
    let log = slog::Logger::root(Cancellations(cancelled.clone()), slog::o!());
    let server = start_with_log(clock, gate.clone(), Default::default(), log);
    let user = json!({"name": "Ada"});
    let body = user.to_string();
    let mut client = tokio::net::TcpStream::connect(server.server.local_addr())
        .await
        .unwrap();
    let request = format!(
        "POST /users HTTP/1.1\r\nhost: test\r\nx-api-key: {ACME}\r\n\
         x-idempotency-key: hung-up\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    client.write_all(request.as_bytes()).await.unwrap();
    gate.entered.notified().await;
    drop(client);
    cancelled.notified().await;
    gate.release.notify_one();

    // The retry finds the first write's outcome, kept (waiting while it is still running).
    let key = [("X-Idempotency-Key", "hung-up")];
    let body = Some(user);
    let mut retry = None;
    for _ in 0..500 {
        let answer = server
            .send(Method::POST, "/users", Some(ACME), &key, body.clone())
            .await;
        if answer.status != StatusCode::CONFLICT {
            retry = Some(answer);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let retry = retry.expect("the key is not locked for ever");
    assert_eq!(retry.status, StatusCode::CREATED);
    assert!(retry.replayed(), "the first write ran to its end");
    assert_eq!(server.user_total().await, 1);
    let writes = &server.server.app_private().writes;
    tokio::time::timeout(std::time::Duration::from_secs(5), writes.finished())
        .await
        .expect("no write is left running");
}
