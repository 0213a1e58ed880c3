//! `verifyUserExists`: by email (case-insensitively) or msisdn, following updates.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::start;

#[tokio::test]
async fn existence_follows_creates_and_updates() {
    let server = start();
    let exists = |body| {
        let server = &server;
        async move {
            let reply = server.post("/tools/verify-user-exists", body).await;
            assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
            reply.body["exists"].as_bool().unwrap()
        }
    };
    let created = server
        .post(
            "/users",
            json!({"name": "Ada", "email": "Ada@Example.com", "msisdn": "+15551234567"}),
        )
        .await;
    let id = created.body["userId"].as_str().unwrap().to_string();
    assert!(exists(json!({"email": "ada@example.COM"})).await);
    assert!(exists(json!({"msisdn": "+15551234567"})).await);
    assert!(exists(json!({"email": "nobody@example.com", "msisdn": "+15551234567"})).await);
    assert!(!exists(json!({"email": "nobody@example.com"})).await);

    server
        .put(
            &format!("/users/{id}"),
            json!({"email": "lovelace@example.com"}),
        )
        .await;
    assert!(!exists(json!({"email": "ada@example.com"})).await);
    assert!(exists(json!({"email": "LOVELACE@example.com"})).await);

    // A second user with the same number: the number exists until neither has it.
    let other = server
        .post("/users", json!({"name": "Bob", "msisdn": "+15551234567"}))
        .await;
    let other = other.body["userId"].as_str().unwrap().to_string();
    server
        .put(&format!("/users/{id}"), json!({"msisdn": "+15550000000"}))
        .await;
    assert!(exists(json!({"msisdn": "+15551234567"})).await);
    server
        .put(
            &format!("/users/{other}"),
            json!({"msisdn": "+15550000001"}),
        )
        .await;
    assert!(!exists(json!({"msisdn": "+15551234567"})).await);

    let empty = server.post("/tools/verify-user-exists", json!({})).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(empty.code(), "validation_error");
}
