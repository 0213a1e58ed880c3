//! Coverage read from the spec: one scenario walks every (operationId, status) pair the YAML
//! documents, through the recording proxy, and the recorded set must equal the documented set.
//! An operation or status added to the spec fails this test until the scenario exercises it.
//! The scenario also has to produce every error code of the contract.

use std::collections::BTreeSet;

use connect_client::{Client, builder, types};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::spec::{ERROR_CODES, Spec, spec};
use crate::common::*;
use crate::users::oversized_metadata;

type Pairs = BTreeSet<(String, u16)>;

/// The documented pairs no exchange exercised.
fn uncovered(documented: &Pairs, covered: &Pairs) -> Pairs {
    documented.difference(covered).cloned().collect()
}

/// Pairs that a known server bug makes unreachable with a conforming answer (see [`Bug`]).
fn unreachable_while_known() -> Pairs {
    let mut pairs = Pairs::new();
    if KNOWN_BUGS.contains(&Bug::PathIdTooLongIsNotFound) {
        pairs.insert(("getUser".into(), 400));
        pairs.insert(("getCustomer".into(), 400));
    }
    pairs
}

/// Passes when exactly the expected pairs are missing.
fn check_coverage(spec: &Spec, covered: &Pairs, unreachable: &Pairs) -> Result<(), String> {
    let missing = uncovered(&spec.documented_pairs(), covered);
    if &missing == unreachable {
        return Ok(());
    }
    let untested: Vec<_> = missing.difference(unreachable).collect();
    let fixed: Vec<_> = unreachable.difference(&missing).collect();
    Err(format!(
        "documented but never exercised: {untested:?}; reachable again (remove the bug from \
         KNOWN_BUGS): {fixed:?}"
    ))
}

async fn raw(request: reqwest::RequestBuilder) -> (u16, Value) {
    read(request.send().await.expect("an answer")).await
}

/// Touches every documented pair of every operation. Assertions here are light on purpose:
/// the other modules assert the behaviour; this walk exists so that the recorder sees each pair.
async fn scenario(h: &Harness) {
    let a = h.client(Acme);
    let n = h.client_with_key(None);
    let missing_user = uuid::Uuid::new_v4();

    // Users.
    let ada = expect_ok(
        a.create_user()
            .body(typed::<types::CreateUserRequest>(
                json!({"name": "Ada", "referenceId": "ada"}),
            ))
            .send()
            .await,
        201,
    )
    .into_inner();
    let bob = expect_ok(
        a.create_user()
            .body(typed::<types::CreateUserRequest>(
                json!({"name": "Bob", "referenceId": "bob"}),
            ))
            .send()
            .await,
        201,
    )
    .into_inner();
    let create_user = |body: Value| {
        a.create_user()
            .body(typed::<types::CreateUserRequest>(body))
    };
    expect_error(
        create_user(json!({"name": "x", "email": "not-an-email"}))
            .send()
            .await,
        400,
        "validation_error",
    );
    expect_error(
        create_user(json!({"name": "x", "referenceId": "ada"}))
            .send()
            .await,
        409,
        "conflict",
    );
    expect_error(
        create_user(json!({"name": "x", "metadata": oversized_metadata()}))
            .send()
            .await,
        413,
        "payload_too_large",
    );
    expect_error(
        n.create_user()
            .body(types::CreateUserRequest::builder().name("x"))
            .send()
            .await,
        401,
        "unauthorized",
    );
    let (status, _) = raw(h
        .raw(Acme, Method::POST, "/users")
        .header("content-type", "text/plain")
        .body("{}"))
    .await;
    assert_eq!(status, 400);

    expect_ok(a.list_users().send().await, 200);
    expect_error(
        a.list_users().limit(1001u64).send().await,
        400,
        "validation_error",
    );
    expect_error(n.list_users().send().await, 401, "unauthorized");

    expect_ok(
        a.get_user().user_id(ada.user_id.to_string()).send().await,
        200,
    );
    expect_error(
        a.get_user().user_id(missing_user.to_string()).send().await,
        404,
        "not_found",
    );
    expect_error(
        n.get_user().user_id(ada.user_id.to_string()).send().await,
        401,
        "unauthorized",
    );
    raw(h.raw(Acme, Method::GET, &format!("/users/{}", "a".repeat(301)))).await;

    let update_user = |id: uuid::Uuid, body: Value| {
        a.update_user()
            .user_id(id.to_string())
            .body(typed::<types::UpdateUserRequest>(body))
    };
    expect_ok(
        update_user(ada.user_id, json!({"name": "Ada L."}))
            .send()
            .await,
        200,
    );
    expect_error(
        update_user(ada.user_id, json!({"email": "not-an-email"}))
            .send()
            .await,
        400,
        "validation_error",
    );
    expect_error(
        update_user(missing_user, json!({"name": "x"})).send().await,
        404,
        "not_found",
    );
    expect_error(
        update_user(ada.user_id, json!({"referenceId": "bob"}))
            .send()
            .await,
        409,
        "conflict",
    );
    expect_error(
        update_user(ada.user_id, json!({"metadata": oversized_metadata()}))
            .send()
            .await,
        413,
        "payload_too_large",
    );
    expect_error(
        n.update_user()
            .user_id(ada.user_id.to_string())
            .body(typed::<types::UpdateUserRequest>(json!({"name": "x"})))
            .send()
            .await,
        401,
        "unauthorized",
    );

    // Tools.
    fn verify(client: &Client, body: Value) -> builder::VerifyUserExists<'_> {
        client
            .verify_user_exists()
            .body(typed::<types::VerifyUserExistsRequest>(body))
    }
    expect_ok(
        verify(&a, json!({"email": "ada@example.com"})).send().await,
        200,
    );
    expect_error(verify(&a, json!({})).send().await, 400, "validation_error");
    expect_error(
        verify(&n, json!({"email": "ada@example.com"})).send().await,
        401,
        "unauthorized",
    );
    let (status, _) = raw(h
        .raw(Acme, Method::POST, "/tools/verify-user-exists")
        .json(&json!({"email": "a@example.com", "pad": "p".repeat(300 * 1024)})))
    .await;
    assert_eq!(status, 413);

    // Customers.
    fn create_customer(client: &Client, body: Value) -> builder::CreateCustomer<'_> {
        client
            .create_customer()
            .body(typed::<types::CreateCustomerRequest>(body))
    }
    let c = expect_ok(
        create_customer(
            &a,
            json!({"customerType": "BUSINESS", "name": "C", "referenceId": "c"}),
        )
        .send()
        .await,
        201,
    )
    .into_inner();
    let cid = c.customer_id.to_string();
    expect_error(
        create_customer(
            &a,
            json!({"customerType": "BUSINESS", "name": "C",
                                   "billing": {"method": "EMAIL_INVOICE", "email": "not-an-email"}}),
        )
        .send()
        .await,
        400,
        "validation_error",
    );
    expect_error(
        create_customer(
            &a,
            json!({"customerType": "BUSINESS", "name": "C", "userIds": [missing_user]}),
        )
        .send()
        .await,
        404,
        "not_found",
    );
    expect_error(
        create_customer(
            &a,
            json!({"customerType": "BUSINESS", "name": "C", "referenceId": "c"}),
        )
        .send()
        .await,
        409,
        "conflict",
    );
    expect_error(
        create_customer(
            &a,
            json!({"customerType": "BUSINESS", "name": "C",
                                   "metadata": oversized_metadata()}),
        )
        .send()
        .await,
        413,
        "payload_too_large",
    );
    expect_error(
        create_customer(&n, json!({"customerType": "BUSINESS", "name": "C"}))
            .send()
            .await,
        401,
        "unauthorized",
    );

    expect_ok(a.list_customers().send().await, 200);
    expect_error(
        a.list_customers().limit(1001u64).send().await,
        400,
        "validation_error",
    );
    expect_error(n.list_customers().send().await, 401, "unauthorized");

    expect_ok(a.get_customer().customer_id(&*cid).send().await, 200);
    expect_error(
        a.get_customer()
            .customer_id(uuid::Uuid::new_v4().to_string())
            .send()
            .await,
        404,
        "not_found",
    );
    expect_error(
        n.get_customer().customer_id(&*cid).send().await,
        401,
        "unauthorized",
    );
    raw(h.raw(Acme, Method::GET, &format!("/customers/{}", "a".repeat(65)))).await;

    fn update_customer<'a>(
        client: &'a Client,
        id: &str,
        key: &str,
        body: Value,
    ) -> builder::UpdateCustomer<'a> {
        client
            .update_customer()
            .customer_id(id)
            .x_idempotency_key(key)
            .body(typed::<types::UpdateCustomerRequest>(body))
    }
    expect_ok(
        update_customer(&a, &cid, "uc", json!({"name": "C2"}))
            .send()
            .await,
        200,
    );
    expect_error(
        update_customer(&a, &cid, "uc", json!({"name": "C3"}))
            .send()
            .await,
        409,
        "idempotency_key_mismatch",
    );
    expect_error(
        update_customer(
            &a,
            &cid,
            "uc-400",
            json!({"billing": {"method": "EMAIL_INVOICE", "email": "not-an-email"}}),
        )
        .send()
        .await,
        400,
        "validation_error",
    );
    expect_error(
        update_customer(
            &a,
            &missing_user.to_string(),
            "uc-404",
            json!({"name": "x"}),
        )
        .send()
        .await,
        404,
        "not_found",
    );
    expect_error(
        update_customer(
            &a,
            &cid,
            "uc-413",
            json!({"metadata": oversized_metadata()}),
        )
        .send()
        .await,
        413,
        "payload_too_large",
    );
    expect_error(
        update_customer(&n, &cid, "uc", json!({"name": "x"}))
            .send()
            .await,
        401,
        "unauthorized",
    );

    fn billing<'a>(
        client: &'a Client,
        id: &str,
        key: &str,
        body: Value,
    ) -> builder::UpdateCustomerBilling<'a> {
        client
            .update_customer_billing()
            .customer_id(id)
            .x_idempotency_key(key)
            .body(typed::<types::Billing>(body))
    }
    let email = json!({"method": "EMAIL_INVOICE", "email": "a@example.com"});
    expect_ok(billing(&a, &cid, "b", email.clone()).send().await, 200);
    expect_error(
        billing(
            &a,
            &cid,
            "b",
            json!({"method": "EMAIL_INVOICE", "email": "b@example.com"}),
        )
        .send()
        .await,
        409,
        "idempotency_key_mismatch",
    );
    expect_error(
        billing(
            &a,
            &cid,
            "b-400",
            json!({"method": "EMAIL_INVOICE", "email": "not-an-email"}),
        )
        .send()
        .await,
        400,
        "validation_error",
    );
    expect_error(
        billing(&a, &missing_user.to_string(), "b-404", email.clone())
            .send()
            .await,
        404,
        "not_found",
    );
    expect_error(
        billing(&n, &cid, "b", email.clone()).send().await,
        401,
        "unauthorized",
    );
    let (status, _) = raw(h
        .raw(Acme, Method::PUT, &format!("/customers/{cid}/billing"))
        .json(&json!({"method": "EMAIL_INVOICE", "email": "p".repeat(300 * 1024)})))
    .await;
    assert_eq!(status, 413);

    // Links.
    fn add<'a>(client: &'a Client, id: &str, user: uuid::Uuid) -> builder::AddUserToCustomer<'a> {
        client
            .add_user_to_customer()
            .customer_id(id)
            .body(types::AddUserToCustomerRequest::builder().user_id(user))
    }
    expect_ok(add(&a, &cid, ada.user_id).send().await, 201);
    expect_error(add(&a, &cid, ada.user_id).send().await, 409, "conflict");
    expect_error(add(&a, &cid, missing_user).send().await, 404, "not_found");
    let (status, _) = raw(h
        .raw(Acme, Method::POST, &format!("/customers/{cid}/users"))
        .json(&json!({"userId": "not-a-uuid"})))
    .await;
    assert_eq!(status, 400);
    expect_error(
        add(&a, &missing_user.to_string(), ada.user_id).send().await,
        404,
        "not_found",
    );
    expect_error(add(&n, &cid, ada.user_id).send().await, 401, "unauthorized");
    let (status, _) = raw(h
        .raw(Acme, Method::POST, &format!("/customers/{cid}/users"))
        .json(&json!({"userId": bob.user_id, "pad": "p".repeat(300 * 1024)})))
    .await;
    assert_eq!(status, 413);

    fn remove<'a>(
        client: &'a Client,
        id: &str,
        user: uuid::Uuid,
        key: &str,
    ) -> builder::RemoveUserFromCustomer<'a> {
        client
            .remove_user_from_customer()
            .customer_id(id)
            .user_id(user)
            .x_idempotency_key(key)
    }
    expect_ok(remove(&a, &cid, ada.user_id, "r").send().await, 204);
    expect_error(
        remove(&a, &cid, bob.user_id, "r").send().await,
        409,
        "idempotency_key_mismatch",
    );
    expect_error(
        remove(&a, &cid, ada.user_id, "r-404").send().await,
        404,
        "not_found",
    );
    expect_error(
        remove(&n, &cid, ada.user_id, "r").send().await,
        401,
        "unauthorized",
    );
    let (status, _) = raw(h.raw(Acme, Method::DELETE, &format!("/customers/{cid}/users"))).await;
    assert_eq!(status, 400);
}

/// `idempotency_key_locked` needs a request that is still running: the gated server.
async fn locked(h: &Harness, gate: &std::sync::Arc<crate::common::gate::Gate>) {
    gate.arm();
    let first = {
        let client = h.client(Acme);
        tokio::spawn(async move {
            client
                .create_user()
                .x_idempotency_key("locked")
                .body(types::CreateUserRequest::builder().name("L"))
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    };
    gate.entered().await;
    expect_error(
        h.client(Acme)
            .create_user()
            .x_idempotency_key("locked")
            .body(types::CreateUserRequest::builder().name("L"))
            .send()
            .await,
        409,
        "idempotency_key_locked",
    );
    gate.release();
    assert_eq!(first.await.unwrap().expect("an answer"), 201);
}

/// The server's bounds, on a server with a short body deadline and a quota of one user and one
/// customer: every operation with a body, its body stalled by the proxy past the deadline, is a
/// 408; the second user and the second customer are 409 `quota_exceeded`.
async fn bounded(h: &Harness) {
    let a = h.client(Acme);
    let user = expect_ok(
        a.create_user()
            .body(types::CreateUserRequest::builder().name("Ada"))
            .send()
            .await,
        201,
    )
    .into_inner();
    expect_error(
        a.create_user()
            .body(types::CreateUserRequest::builder().name("Bob"))
            .send()
            .await,
        409,
        "quota_exceeded",
    );
    let customer = json!({"name": "Acme", "customerType": "BUSINESS"});
    let created = expect_ok(
        a.create_customer()
            .body(typed::<types::CreateCustomerRequest>(customer.clone()))
            .send()
            .await,
        201,
    )
    .into_inner();
    expect_error(
        a.create_customer()
            .body(typed::<types::CreateCustomerRequest>(customer.clone()))
            .send()
            .await,
        409,
        "quota_exceeded",
    );
    let (uid, cid) = (user.user_id, created.customer_id);
    let bodies = [
        (Method::POST, "/users".to_string(), json!({"name": "Slow"})),
        (
            Method::PUT,
            format!("/users/{uid}"),
            json!({"name": "Slow"}),
        ),
        (
            Method::POST,
            "/tools/verify-user-exists".to_string(),
            json!({"email": "slow@example.com"}),
        ),
        (Method::POST, "/customers".to_string(), customer),
        (
            Method::PUT,
            format!("/customers/{cid}"),
            json!({"name": "Slow"}),
        ),
        (
            Method::PUT,
            format!("/customers/{cid}/billing"),
            json!({"method": "EMAIL_INVOICE", "email": "a@example.com"}),
        ),
        (
            Method::POST,
            format!("/customers/{cid}/users"),
            json!({"userId": uid}),
        ),
    ];
    for (method, path, body) in bodies {
        let (status, answer) = raw(h
            .raw(Acme, method.clone(), &path)
            .header(proxy::STALL_BODY, "2000")
            .json(&body))
        .await;
        assert_eq!(status, 408, "{method} {path}: {answer}");
        assert_eq!(answer["code"], "request_timeout");
    }
}

/// Bounds short enough for a test: bodies within 200 ms, one user and one customer a tenant.
fn test_bounds() -> connect_server::Limits {
    connect_server::Limits {
        body_timeout: std::time::Duration::from_millis(200),
        quotas: connect_server::store::Quotas {
            users: 1,
            customers: 1,
        },
        ..Default::default()
    }
}

#[tokio::test]
async fn every_documented_status_of_every_operation_is_exercised() {
    let h = Harness::start().await;
    let (gated, gate) = Harness::start_gated().await;
    let limited = Harness::start_with_limits(test_bounds()).await;
    scenario(&h).await;
    locked(&gated, &gate).await;
    bounded(&limited).await;
    let harnesses = [&h, &gated, &limited];
    let covered: Pairs = harnesses.iter().flat_map(|h| h.recorder.pairs()).collect();
    let codes: BTreeSet<String> = harnesses
        .iter()
        .flat_map(|h| h.recorder.codes())
        .map(|(_, _, code)| code)
        .collect();
    h.finish().await;
    gated.finish().await;
    limited.finish().await;

    if let Err(message) = check_coverage(spec(), &covered, &unreachable_while_known()) {
        panic!("{message}");
    }
    // Every error code of the contract, except `internal`, which no request may provoke.
    let contract: BTreeSet<String> = ERROR_CODES
        .iter()
        .flat_map(|(_, codes)| codes.iter())
        .filter(|code| **code != "internal")
        .map(|code| code.to_string())
        .collect();
    let unseen: Vec<&String> = contract.difference(&codes).collect();
    assert!(unseen.is_empty(), "error codes never produced: {unseen:?}");
}

#[test]
fn the_comparison_reports_a_documented_pair_nobody_exercised() {
    let documented = spec().documented_pairs();
    let mut with_extra = documented.clone();
    with_extra.insert(("deleteUser".into(), 204));
    assert_eq!(
        uncovered(&with_extra, &documented),
        Pairs::from([("deleteUser".into(), 204)])
    );
    assert!(uncovered(&documented, &documented).is_empty());
}

#[test]
fn an_operation_added_to_the_yaml_fails_coverage_until_exercised() {
    let mut document = spec().document.clone();
    document["paths"]["/users/{userId}"]["delete"] = json!({
        "operationId": "deleteUser",
        "responses": {"204": {"description": "Deleted."}}
    });
    let yaml = serde_yaml::to_string(&document).unwrap();
    let extended = Spec::parse(&yaml).expect("the extended spec parses");
    // As if everything the real spec documents had been exercised.
    let covered = spec().documented_pairs();
    let error = check_coverage(&extended, &covered, &Pairs::new()).unwrap_err();
    assert!(error.contains("deleteUser"), "{error}");
    assert!(check_coverage(spec(), &covered, &Pairs::new()).is_ok());
    // A known bug's pairs that come back are reported too.
    let error =
        check_coverage(spec(), &covered, &Pairs::from([("getUser".into(), 400)])).unwrap_err();
    assert!(error.contains("reachable again"), "{error}");
}
