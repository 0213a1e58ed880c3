//! `POST /tools/verify-user-exists`.

use connect_client::types;
use serde_json::json;

use crate::common::*;

async fn exists(client: &connect_client::Client, body: serde_json::Value) -> bool {
    let response = expect_ok(
        client
            .verify_user_exists()
            .body(typed::<types::VerifyUserExistsRequest>(body))
            .send()
            .await,
        200,
    )
    .into_inner();
    assert!(response.description.is_some_and(|d| !d.is_empty()));
    response.exists
}

#[tokio::test]
async fn a_match_on_any_given_field_counts_and_only_within_the_tenant() {
    let h = Harness::start().await;
    let (acme, globex) = (h.client(Acme), h.client(Globex));
    expect_ok(
        acme.create_user()
            .body(typed::<types::CreateUserRequest>(
                json!({"name": "Ada", "email": "ada@example.com", "msisdn": "+15551234567"}),
            ))
            .send()
            .await,
        201,
    );
    for (body, expected) in [
        (json!({"email": "ada@example.com"}), true),
        (json!({"msisdn": "+15551234567"}), true),
        (
            json!({"email": "ada@example.com", "msisdn": "+46700000000"}),
            true,
        ),
        (
            json!({"email": "nobody@example.com", "msisdn": "+15551234567"}),
            true,
        ),
        (json!({"email": "nobody@example.com"}), false),
        (json!({"msisdn": "+15551234568"}), false),
        (
            json!({"email": "nobody@example.com", "msisdn": "+46700000000"}),
            false,
        ),
    ] {
        assert_eq!(exists(&acme, body.clone()).await, expected, "{body}");
        // Users of other tenants are never reported.
        assert!(!exists(&globex, body.clone()).await, "{body}");
    }
    h.finish().await;
}

#[tokio::test]
async fn neither_field_or_a_bad_one_is_400() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let error = expect_error(
        acme.verify_user_exists()
            .body(typed::<types::VerifyUserExistsRequest>(json!({})))
            .send()
            .await,
        400,
        "validation_error",
    );
    assert!(!error.details.is_empty(), "{error:?}");
    h.finish().await;
}

#[tokio::test]
async fn it_needs_a_key_and_the_401_reveals_nothing() {
    let h = Harness::start().await;
    expect_ok(
        h.client(Acme)
            .create_user()
            .body(typed::<types::CreateUserRequest>(
                json!({"name": "Ada", "email": "ada@example.com"}),
            ))
            .send()
            .await,
        201,
    );
    for key in [None, Some("nope")] {
        let client = h.client_with_key(key);
        let mut messages = Vec::new();
        for email in ["ada@example.com", "nobody@example.com"] {
            let error = expect_error(
                client
                    .verify_user_exists()
                    .body(typed::<types::VerifyUserExistsRequest>(
                        json!({"email": email}),
                    ))
                    .send()
                    .await,
                401,
                "unauthorized",
            );
            messages.push(error.message);
        }
        assert_eq!(messages[0], messages[1]);
    }
    h.finish().await;
}
