//! `Client::retrying`: one idempotency key per logical write, the same on every attempt; retried
//! exactly when the contract says a retry may help.

use std::time::Duration;

use connect_client::{Client, RetryPolicy, types};
use uuid::Uuid;

use crate::common::{Api, Fault, FaultServer, KEY, client_for, create_users, error_body, fast};

/// Asserts that every request carried the same key, a UUID v4, and returns it.
fn one_key(server: &FaultServer) -> Uuid {
    let keys = server.keys();
    let first = keys[0].clone().expect("a key on the first attempt");
    assert!(
        keys.iter()
            .all(|key| key.as_deref() == Some(first.as_str())),
        "every attempt carries the first attempt's key: {keys:?}"
    );
    let key = Uuid::parse_str(&first).expect("the key is a UUID");
    assert_eq!(key.get_version_num(), 4, "a random (v4) UUID: {key}");
    key
}

async fn user_count(api: &Api) -> i64 {
    let page = api.client().list_users().send().await.expect("a page");
    page.pagination.total
}

fn ada() -> types::builder::CreateUserRequest {
    types::CreateUserRequest::builder().name("Ada Lovelace")
}

#[tokio::test]
async fn a_lost_response_is_replayed_not_repeated() {
    let api = Api::start();
    let proxy = FaultServer::start(Some(&api.url), [Fault::ForwardThenDrop], Fault::Forward).await;
    let client = client_for(&proxy.url);

    let user = client
        .retrying_with(fast())
        .create_user(ada())
        .await
        .expect("the second attempt gets the first one's result");

    assert_eq!(proxy.requests().len(), 2);
    one_key(&proxy);
    assert_eq!(
        user.headers()
            .get("idempotent-replayed")
            .map(|value| value.to_str().unwrap()),
        Some("true"),
        "the answer is the first attempt's, replayed"
    );
    let page = api.client().list_users().send().await.unwrap();
    assert_eq!(page.pagination.total, 1, "exactly one user was created");
    assert_eq!(page.items[0].user_id, user.user_id);
}

#[tokio::test]
async fn retries_stop_at_the_attempt_bound() {
    let server = FaultServer::start(
        None,
        [],
        Fault::Respond(503, error_body("unavailable", "try again later")),
    )
    .await;
    let client = client_for(&server.url);

    let error = client
        .retrying_with(fast().with_max_attempts(3))
        .create_user(ada())
        .await
        .expect_err("every attempt fails");

    assert_eq!(server.requests().len(), 3);
    one_key(&server);
    assert_eq!(error.attempts(), 3);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        error.code(),
        Some("unavailable"),
        "the undocumented 503's body is read"
    );
    assert_eq!(
        error.to_string(),
        "503 Service Unavailable: unavailable: try again later (after 3 attempts)"
    );
}

#[tokio::test]
async fn server_errors_and_a_locked_key_are_retried_with_the_same_key() {
    let api = Api::start();
    let proxy = FaultServer::start(
        Some(&api.url),
        [
            Fault::Respond(500, error_body("internal", "the store failed")),
            Fault::Respond(409, error_body("idempotency_key_locked", "still running")),
            Fault::Respond(502, "<html><h1>502 Bad Gateway</h1></html>".to_string()),
        ],
        Fault::Forward,
    )
    .await;
    let client = client_for(&proxy.url);

    let user = client
        .retrying_with(fast().with_max_attempts(4))
        .create_user(ada())
        .await
        .expect("the fourth attempt reaches the server");

    assert_eq!(proxy.requests().len(), 4);
    one_key(&proxy);
    assert_eq!(user.name.as_str(), "Ada Lovelace");
    assert_eq!(user_count(&api).await, 1);
}

#[tokio::test]
async fn a_key_mismatch_and_other_4xx_are_never_retried() {
    let cases = [
        (409, "idempotency_key_mismatch"),
        (409, "conflict"),
        (400, "validation_error"),
        (401, "unauthorized"),
        (404, "not_found"),
        (413, "payload_too_large"),
        (429, "rate_limited"),
    ];
    for (status, code) in cases {
        let server =
            FaultServer::start(None, [], Fault::Respond(status, error_body(code, "no"))).await;
        let client = client_for(&server.url);

        let error = client
            .retrying_with(fast())
            .create_user(ada())
            .await
            .expect_err("the answer is an error");

        assert_eq!(server.requests().len(), 1, "{status} {code} is sent once");
        assert_eq!(error.attempts(), 1);
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(error.code(), Some(code));
        assert!(!error.is_retryable());
    }
}

#[tokio::test]
async fn dropped_connections_and_timeouts_are_retried() {
    let api = Api::start();
    let proxy =
        FaultServer::start(Some(&api.url), [Fault::Drop, Fault::Hang], Fault::Forward).await;
    let client = Client::builder(&proxy.url)
        .api_key(KEY)
        // Long enough for the forwarded attempt on a busy machine; the hang costs this much.
        .timeout(Duration::from_millis(1500))
        .build()
        .unwrap();

    client
        .retrying_with(fast())
        .create_user(ada())
        .await
        .expect("the third attempt reaches the server");

    assert_eq!(proxy.requests().len(), 3);
    one_key(&proxy);
    assert_eq!(user_count(&api).await, 1);
}

#[tokio::test]
async fn reads_are_retried_without_a_key() {
    let api = Api::start();
    let [user] = create_users(&api.client(), "Grace", 1)
        .await
        .try_into()
        .unwrap();
    let proxy = FaultServer::start(
        Some(&api.url),
        [
            Fault::Respond(503, error_body("unavailable", "later")),
            Fault::Drop,
        ],
        Fault::Forward,
    )
    .await;
    let client = client_for(&proxy.url);
    let user_id = user.user_id.to_string();

    let found = client
        .retrying_with(fast())
        .read(|| client.get_user().user_id(user_id.as_str()).send())
        .await
        .expect("the third attempt reaches the server");

    assert_eq!(found.user_id, user.user_id);
    let requests = proxy.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.method == "GET"));
    assert!(
        proxy.keys().iter().all(Option::is_none),
        "reads carry no key"
    );
}

#[tokio::test]
async fn the_generic_write_hands_every_attempt_the_same_key() {
    let api = Api::start();
    let proxy = FaultServer::start(Some(&api.url), [Fault::ForwardThenDrop], Fault::Forward).await;
    let client = client_for(&proxy.url);
    let body: types::CreateUserRequest = ada().try_into().unwrap();
    let mut given = Vec::new();

    let user = client
        .retrying_with(fast())
        .write(|key| {
            given.push(key.clone());
            client
                .create_user()
                .x_idempotency_key(key)
                .body(body.clone())
                .send()
        })
        .await
        .expect("the retry succeeds");

    assert_eq!(given.len(), 2);
    assert_eq!(given[0], given[1]);
    assert_eq!(one_key(&proxy).to_string(), given[0]);
    assert_eq!(user_count(&api).await, 1);
    assert_eq!(
        api.client().list_users().send().await.unwrap().items[0].user_id,
        user.user_id
    );
}

#[tokio::test]
async fn every_mutating_operation_sends_a_fresh_key() {
    let api = Api::start();
    let proxy = FaultServer::proxy(&api.url).await;
    let client = client_for(&proxy.url);
    let retrying = client.retrying_with(fast());

    let ada = retrying.create_user(ada()).await.unwrap();
    let bob = retrying
        .create_user(types::CreateUserRequest::builder().name("Bob"))
        .await
        .unwrap();
    let ada = retrying
        .update_user(
            ada.user_id,
            types::UpdateUserRequest::builder()
                .name("Ada King".parse::<types::UpdateUserRequestName>().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(ada.name.as_str(), "Ada King");
    let customer = retrying
        .create_customer(
            types::CreateCustomerRequest::builder()
                .customer_type(types::CustomerType::Business)
                .name("Acme AB")
                .user_ids(vec![ada.user_id]),
        )
        .await
        .unwrap();
    let customer = retrying
        .update_customer(
            customer.customer_id,
            types::UpdateCustomerRequest::builder().name(
                "Acme Group AB"
                    .parse::<types::UpdateCustomerRequestName>()
                    .unwrap(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(customer.name.as_str(), "Acme Group AB");
    let customer = retrying
        .update_customer_billing(
            customer.customer_id,
            types::Billing::EmailInvoiceBilling(
                types::EmailInvoiceBilling::builder()
                    .method(types::EmailInvoiceBillingMethod::EmailInvoice)
                    .email("billing@acme.example")
                    .try_into()
                    .unwrap(),
            ),
        )
        .await
        .unwrap();
    assert!(customer.billing.is_some());
    let link = retrying
        .add_user_to_customer(
            customer.customer_id,
            types::AddUserToCustomerRequest::builder()
                .user_id(bob.user_id)
                .role(types::CustomerUserRole::Manager),
        )
        .await
        .unwrap();
    assert_eq!(link.user_id, bob.user_id);
    let removed = retrying
        .remove_user_from_customer(customer.customer_id, bob.user_id)
        .await
        .unwrap();
    assert_eq!(removed.status().as_u16(), 204);

    let requests = proxy.requests();
    let methods: Vec<&str> = requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(
        methods,
        [
            "POST", "POST", "PUT", "POST", "PUT", "PUT", "POST", "DELETE"
        ]
    );
    let mut keys: Vec<String> = proxy
        .keys()
        .into_iter()
        .map(|k| k.expect("a key"))
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 8, "one fresh key per operation");
}

#[tokio::test]
async fn an_invalid_body_is_refused_before_sending() {
    let server = FaultServer::start(None, [], Fault::Respond(500, String::new())).await;
    let client = client_for(&server.url);

    // `name` is required.
    let error = client
        .retrying_with(fast())
        .create_user(types::CreateUserRequest::builder())
        .await
        .expect_err("no name");

    assert!(server.requests().is_empty());
    assert!(
        error
            .to_string()
            .starts_with("invalid request, not sent: conversion to `CreateUserRequest`"),
        "{error}"
    );
}

#[tokio::test]
async fn never_sends_once() {
    let server = FaultServer::start(
        None,
        [],
        Fault::Respond(503, error_body("unavailable", "no")),
    )
    .await;
    let client = client_for(&server.url);

    let error = client
        .retrying_with(RetryPolicy::never())
        .create_user(ada())
        .await
        .expect_err("503");

    assert_eq!(server.requests().len(), 1);
    assert!(error.is_retryable(), "a retry might have helped");
}

#[test]
fn retried_calls_and_streams_can_be_spawned() {
    fn send<T: Send>(_: T) {}
    let client = client_for("http://127.0.0.1:9");
    send(client.retrying().create_user(ada()));
    send(client.retrying().read(|| client.list_users().send()));
    send(client.all_users().stream());
    send(client.all_customers().stream());
}
