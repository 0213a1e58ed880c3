//! `X-Idempotency-Key` on every mutating operation: replay, mismatch, locked, expiry, tenancy.

use chrono::Duration;
use connect_client::types;
use connect_client::{Client, Error, ResponseValue};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::*;

/// The seven mutating operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    CreateUser,
    UpdateUser,
    CreateCustomer,
    UpdateCustomer,
    UpdateCustomerBilling,
    AddUserToCustomer,
    RemoveUserFromCustomer,
}

const OPS: [Op; 7] = [
    Op::CreateUser,
    Op::UpdateUser,
    Op::CreateCustomer,
    Op::UpdateCustomer,
    Op::UpdateCustomerBilling,
    Op::AddUserToCustomer,
    Op::RemoveUserFromCustomer,
];

/// Two requests per operation: the one under test (`A`) and a different one (`B`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    A,
    B,
}

/// Objects the operations act on.
#[derive(Clone, Copy, Debug)]
struct Fixture {
    user: Uuid,
    customer: Uuid,
    /// Not linked to `customer` at the start: what `AddUserToCustomer` links.
    to_link: Uuid,
    /// Linked to `customer` at the start: what `RemoveUserFromCustomer` unlinks (`A`).
    linked: Uuid,
    /// Also linked: what `RemoveUserFromCustomer` `B` names.
    linked_too: Uuid,
}

impl Fixture {
    async fn new(client: &Client) -> Self {
        let fixture = Self {
            user: user(client, "Subject").await.user_id,
            customer: customer(client, "Subject customer").await.customer_id,
            to_link: user(client, "To link").await.user_id,
            linked: user(client, "Linked").await.user_id,
            linked_too: user(client, "Linked too").await.user_id,
        };
        link(client, fixture.customer, fixture.linked).await;
        link(client, fixture.customer, fixture.linked_too).await;
        fixture
    }
}

/// What came back: status, body (`null` for none) and whether it was a replay.
#[derive(Debug, PartialEq)]
struct Outcome {
    status: u16,
    body: Value,
    replayed: bool,
}

impl Outcome {
    fn of<T: serde::Serialize + std::fmt::Debug>(
        result: Result<ResponseValue<T>, Error<types::Error>>,
    ) -> Self {
        match result {
            Ok(response) => Self {
                status: response.status().as_u16(),
                replayed: replayed(&response),
                body: json(&response.into_inner()),
            },
            Err(Error::ErrorResponse(response)) => Self {
                status: response.status().as_u16(),
                replayed: replayed(&response),
                body: json(&response.into_inner()),
            },
            Err(other) => panic!("no answer from the API: {other:?}"),
        }
    }

    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// The body without `requestId`, which names each request (a replay is a request too).
    fn body_without_request_id(&self) -> Value {
        let mut body = self.body.clone();
        if let Some(object) = body.as_object_mut() {
            object.remove("requestId");
        }
        body
    }
}

async fn send(client: &Client, op: Op, f: Fixture, key: Option<&str>, v: Variant) -> Outcome {
    let name = match v {
        Variant::A => "Name A",
        Variant::B => "Name B",
    };
    macro_rules! keyed {
        ($builder:expr) => {{
            let builder = $builder;
            match key {
                Some(key) => builder.x_idempotency_key(key),
                None => builder,
            }
        }};
    }
    match op {
        Op::CreateUser => Outcome::of(
            keyed!(client.create_user())
                .body(typed::<types::CreateUserRequest>(json!({"name": name})))
                .send()
                .await,
        ),
        Op::UpdateUser => Outcome::of(
            keyed!(client.update_user().user_id(f.user.to_string()))
                .body(typed::<types::UpdateUserRequest>(json!({"name": name})))
                .send()
                .await,
        ),
        Op::CreateCustomer => Outcome::of(
            keyed!(client.create_customer())
                .body(typed::<types::CreateCustomerRequest>(
                    json!({"customerType": "CONSUMER", "name": name}),
                ))
                .send()
                .await,
        ),
        Op::UpdateCustomer => Outcome::of(
            keyed!(client.update_customer().customer_id(f.customer.to_string()))
                .body(typed::<types::UpdateCustomerRequest>(json!({"name": name})))
                .send()
                .await,
        ),
        Op::UpdateCustomerBilling => Outcome::of(
            keyed!(
                client
                    .update_customer_billing()
                    .customer_id(f.customer.to_string())
            )
            .body(typed::<types::Billing>(json!({
                "method": "EMAIL_INVOICE",
                "email": if v == Variant::A { "a@example.com" } else { "b@example.com" }
            })))
            .send()
            .await,
        ),
        Op::AddUserToCustomer => Outcome::of(
            keyed!(
                client
                    .add_user_to_customer()
                    .customer_id(f.customer.to_string())
            )
            .body(typed::<types::AddUserToCustomerRequest>(json!({
                "userId": f.to_link,
                "role": if v == Variant::A { "MEMBER" } else { "ADMIN" }
            })))
            .send()
            .await,
        ),
        Op::RemoveUserFromCustomer => Outcome::of(
            keyed!(
                client
                    .remove_user_from_customer()
                    .customer_id(f.customer.to_string())
            )
            .user_id(if v == Variant::A {
                f.linked
            } else {
                f.linked_too
            })
            .send()
            .await,
        ),
    }
}

/// The state an operation changes, as JSON (to show that a replay changed nothing).
async fn state(client: &Client, f: Fixture) -> Value {
    let users = expect_ok(client.list_users().limit(1000u64).send().await, 200).into_inner();
    let customers =
        expect_ok(client.list_customers().limit(1000u64).send().await, 200).into_inner();
    json!({"users": json(&users.items), "customers": json(&customers.items), "fixture": format!("{f:?}")})
}

/// Changes what `op` acts on with an unkeyed request, so that a replay that executed again
/// would show.
async fn disturb(client: &Client, op: Op, f: Fixture) {
    match op {
        Op::CreateUser | Op::CreateCustomer => {}
        Op::UpdateUser => {
            send(client, Op::UpdateUser, f, None, Variant::B).await;
        }
        Op::UpdateCustomer => {
            send(client, Op::UpdateCustomer, f, None, Variant::B).await;
        }
        Op::UpdateCustomerBilling => {
            send(client, Op::UpdateCustomerBilling, f, None, Variant::B).await;
        }
        Op::AddUserToCustomer => {
            expect_ok(
                client
                    .remove_user_from_customer()
                    .customer_id(f.customer.to_string())
                    .user_id(f.to_link)
                    .send()
                    .await,
                204,
            );
        }
        Op::RemoveUserFromCustomer => {
            link(client, f.customer, f.linked).await;
        }
    }
}

#[tokio::test]
async fn an_identical_retry_replays_the_kept_response_and_executes_nothing() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let f = Fixture::new(&acme).await;
    for op in OPS {
        let key = format!("replay-{op:?}");
        let first = send(&acme, op, f, Some(&key), Variant::A).await;
        assert!(first.status < 300 && !first.replayed, "{op:?}: {first:?}");
        disturb(&acme, op, f).await;
        let before = state(&acme, f).await;
        let again = send(&acme, op, f, Some(&key), Variant::A).await;
        assert_eq!(
            (again.status, &again.body, again.replayed),
            (first.status, &first.body, true),
            "{op:?}: the replay is the kept response, marked as a replay"
        );
        assert_eq!(
            state(&acme, f).await,
            before,
            "{op:?}: the replay executed something"
        );
    }
    h.finish().await;
}

#[tokio::test]
async fn the_same_key_with_a_different_request_is_409_mismatch_and_executes_nothing() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let f = Fixture::new(&acme).await;
    for op in OPS {
        let key = format!("mismatch-{op:?}");
        let first = send(&acme, op, f, Some(&key), Variant::A).await;
        assert!(first.status < 300, "{op:?}: {first:?}");
        let before = state(&acme, f).await;
        let other = send(&acme, op, f, Some(&key), Variant::B).await;
        assert_eq!(
            (other.status, other.code()),
            (409, "idempotency_key_mismatch"),
            "{op:?}: {other:?}"
        );
        assert!(!other.replayed);
        assert_eq!(state(&acme, f).await, before, "{op:?}");
    }
    // A key is the tenant's, not the operation's: reusing it on another operation is a mismatch.
    send(&acme, Op::CreateUser, f, Some("shared"), Variant::A).await;
    let other = send(&acme, Op::CreateCustomer, f, Some("shared"), Variant::A).await;
    assert_eq!(
        (other.status, other.code()),
        (409, "idempotency_key_mismatch")
    );
    h.finish().await;
}

#[tokio::test]
async fn a_retry_while_the_first_runs_is_409_locked_for_every_mutating_operation() {
    let (h, gate) = Harness::start_gated().await;
    let acme = h.client(Acme);
    let f = Fixture::new(&acme).await;
    for op in OPS {
        let key = format!("locked-{op:?}");
        gate.arm();
        let first = {
            let client = h.client(Acme);
            let key = key.clone();
            tokio::spawn(async move { send(&client, op, f, Some(&key), Variant::A).await })
        };
        gate.entered().await;
        let same = send(&acme, op, f, Some(&key), Variant::A).await;
        assert_eq!(
            (same.status, same.code()),
            (409, "idempotency_key_locked"),
            "{op:?}: {same:?}"
        );
        let different = send(&acme, op, f, Some(&key), Variant::B).await;
        assert_eq!(
            (different.status, different.code()),
            (409, "idempotency_key_mismatch"),
            "{op:?}: {different:?}"
        );
        gate.release();
        let first = first.await.expect("the first request completes");
        assert!(first.status < 300 && !first.replayed, "{op:?}: {first:?}");
        // Once it is done, the retry is a replay.
        let after = send(&acme, op, f, Some(&key), Variant::A).await;
        assert_eq!(
            (after.status, &after.body, after.replayed),
            (first.status, &first.body, true)
        );
    }
    h.finish().await;
}

#[tokio::test]
async fn a_storm_of_identical_keyed_creates_creates_exactly_one() {
    let h = Harness::start().await;
    let clients: Vec<Client> = (0..16).map(|_| h.client(Acme)).collect();
    let outcomes = futures::future::join_all(clients.iter().map(|client| async move {
        Outcome::of(
            client
                .create_user()
                .x_idempotency_key("storm")
                .body(typed::<types::CreateUserRequest>(json!({"name": "Once"})))
                .send()
                .await,
        )
    }))
    .await;
    let created: Vec<&Outcome> = outcomes.iter().filter(|o| o.status == 201).collect();
    let originals = created.iter().filter(|o| !o.replayed).count();
    assert_eq!(originals, 1, "{outcomes:?}");
    for outcome in &outcomes {
        match outcome.status {
            201 => assert_eq!(outcome.body, created[0].body),
            409 => assert_eq!(outcome.code(), "idempotency_key_locked", "{outcome:?}"),
            _ => panic!("unexpected answer in the storm: {outcome:?}"),
        }
    }
    assert_eq!(user_total(&clients[0]).await, 1);
    h.finish().await;
}

#[tokio::test]
async fn keys_expire_after_24_hours_and_are_then_forgotten() {
    let (h, clock) = Harness::start_with_manual_clock().await;
    let acme = h.client(Acme);
    let f = Fixture::new(&acme).await;
    let first = send(&acme, Op::CreateUser, f, Some("k"), Variant::A).await;
    clock.advance(Duration::hours(24) - Duration::seconds(1));
    let replay = send(&acme, Op::CreateUser, f, Some("k"), Variant::A).await;
    assert_eq!(
        (replay.status, &replay.body, replay.replayed),
        (201, &first.body, true)
    );
    let mismatch = send(&acme, Op::CreateUser, f, Some("k"), Variant::B).await;
    assert_eq!(mismatch.code(), "idempotency_key_mismatch");
    clock.advance(Duration::seconds(1));
    let fresh = send(&acme, Op::CreateUser, f, Some("k"), Variant::B).await;
    assert_eq!((fresh.status, fresh.replayed), (201, false), "{fresh:?}");
    assert_ne!(fresh.body["userId"], first.body["userId"]);
    h.finish().await;
}

#[tokio::test]
async fn keys_belong_to_a_tenant() {
    let h = Harness::start().await;
    let (acme, globex) = (h.client(Acme), h.client(Globex));
    let f = Fixture::new(&acme).await;
    let ours = send(&acme, Op::CreateUser, f, Some("same-key"), Variant::A).await;
    let theirs = send(&globex, Op::CreateUser, f, Some("same-key"), Variant::A).await;
    assert_eq!((ours.status, ours.replayed), (201, false));
    assert_eq!((theirs.status, theirs.replayed), (201, false));
    assert_ne!(ours.body["userId"], theirs.body["userId"]);
    assert_eq!(user_total(&globex).await, 1);
    h.finish().await;
}

#[tokio::test]
async fn a_kept_failure_is_replayed_too_and_burns_the_key() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let holder = expect_ok(
        acme.create_user()
            .body(typed::<types::CreateUserRequest>(
                json!({"name": "H", "referenceId": "taken"}),
            ))
            .send()
            .await,
        201,
    )
    .into_inner();
    let create = |name: &str| {
        acme.create_user()
            .x_idempotency_key("failing")
            .body(typed::<types::CreateUserRequest>(
                json!({"name": name, "referenceId": "taken"}),
            ))
    };
    let first = Outcome::of(create("A").send().await);
    assert_eq!((first.status, first.code()), (409, "conflict"));
    // Free the reference; the identical retry still gets the kept answer and creates nothing.
    expect_ok(
        acme.update_user()
            .user_id(holder.user_id.to_string())
            .body(typed::<types::UpdateUserRequest>(
                json!({"referenceId": "moved"}),
            ))
            .send()
            .await,
        200,
    );
    let again = Outcome::of(create("A").send().await);
    assert_eq!(again.status, first.status);
    assert_eq!(
        again.body_without_request_id(),
        first.body_without_request_id()
    );
    // The kept response, request id included. (Replayed errors carry no `Idempotent-Replayed`
    // header: dropshot's error responses cannot carry headers, and the spec says so.)
    assert_eq!(again.body, first.body, "the replay is the kept response");
    assert_eq!(user_total(&acme).await, 1);
    let other = Outcome::of(create("B").send().await);
    assert_eq!(other.code(), "idempotency_key_mismatch");

    // A validation failure is kept the same way.
    let invalid = || {
        acme.create_user()
            .x_idempotency_key("invalid")
            .body(typed::<types::CreateUserRequest>(
                json!({"name": "x", "email": "not-an-email"}),
            ))
    };
    let first = Outcome::of(invalid().send().await);
    assert_eq!((first.status, first.code()), (400, "validation_error"));
    let again = Outcome::of(invalid().send().await);
    assert_eq!(
        again.body_without_request_id(),
        first.body_without_request_id()
    );
    assert_eq!(user_total(&acme).await, 1);
    h.finish().await;
}

#[tokio::test]
async fn a_request_that_failed_authentication_does_not_use_up_its_key() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let f = Fixture::new(&acme).await;
    let rejected = send(
        &h.client_with_key(Some("nope")),
        Op::CreateUser,
        f,
        Some("k"),
        Variant::A,
    )
    .await;
    assert_eq!((rejected.status, rejected.code()), (401, "unauthorized"));
    let first = send(&acme, Op::CreateUser, f, Some("k"), Variant::B).await;
    assert_eq!((first.status, first.replayed), (201, false), "{first:?}");
    h.finish().await;
}

#[tokio::test]
async fn a_different_body_after_an_unreadable_one_is_a_different_request() {
    let h = Harness::start().await;
    let keyed = |body: Vec<u8>| {
        h.raw(Acme, reqwest::Method::POST, "/users")
            .header("x-idempotency-key", "k")
            .header("content-type", "application/json")
            .body(body)
    };
    let mut oversized = b"{\"name\": \"".to_vec();
    oversized.extend(std::iter::repeat_n(
        b'a',
        connect_server::REQUEST_BODY_MAX_BYTES,
    ));
    oversized.extend(b"\"}");
    let (status, _) = read(keyed(oversized).send().await.unwrap()).await;
    assert_eq!(status, 413);
    // Not the same bytes: not the same request, whatever the server could read of the first.
    let (status, body) = read(keyed(b"".to_vec()).send().await.unwrap()).await;
    conforms(
        Bug::UnreadBodyFingerprintedAsEmpty,
        (status, body["code"].as_str()) == (409, Some("idempotency_key_mismatch")),
        &format!("an empty body after an oversized one: {status} {body}"),
    );
    let (status, body) = read(
        keyed(b"{\"name\": \"small\"}".to_vec())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("idempotency_key_mismatch")),
        "{body}"
    );
    assert_eq!(user_total(&h.client(Acme)).await, 0);
    h.finish().await;
}
