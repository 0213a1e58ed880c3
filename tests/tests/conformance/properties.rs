//! Property-based tests driven by the spec's schemas (see `common::generate`): random valid
//! bodies are accepted and read back field for field; bodies that break one constraint are a
//! 400 `validation_error` naming that property, and store nothing.
//!
//! One runtime and one server per property (not per case); case counts stay modest so the
//! suite stays fast. Failures are not persisted to files: a failing case is printed, shrunk.

use std::sync::atomic::{AtomicUsize, Ordering};

use connect_client::types;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::common::generate::{
    Mode, Mutation, Override, component, mutations, rule_mutations, valid,
};
use crate::common::spec::{component_validator, spec};
use crate::common::*;

const VALID_CASES: u32 = 48;
const INVALID_CASES: u32 = 64;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Users to refer to from `userIds`, `contactPersonUserId` and `userId`.
async fn pool(client: &connect_client::Client) -> Vec<Value> {
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(json!(user(client, &format!("Pool {i}")).await.user_id));
    }
    ids
}

fn reference_overrides(pool: &[Value], mode: Mode) -> Vec<Override> {
    if pool.is_empty() {
        return Vec::new();
    }
    let min = usize::from(mode == Mode::Full);
    vec![
        (
            "/userIds".into(),
            proptest::sample::subsequence(pool.to_vec(), min..=pool.len())
                .prop_map(Value::Array)
                .boxed(),
        ),
        (
            "/contactPersonUserId".into(),
            proptest::sample::select(pool.to_vec()).boxed(),
        ),
        (
            "/userId".into(),
            proptest::sample::select(pool.to_vec()).boxed(),
        ),
    ]
}

/// Valid bodies of a component schema: its constraints, with ids of users that exist.
fn bodies(name: &str, mode: Mode, pool: &[Value]) -> BoxedStrategy<Value> {
    valid(&component(name), mode, &reference_overrides(pool, mode))
}

/// `referenceId` is unique per tenant: prefix a counter so that shrinking (which replays
/// similar values) cannot collide with an earlier case. The result stays within the bounds.
fn unique_reference(mut body: Value, counter: &AtomicUsize) -> Value {
    if let Some(reference) = body.get("referenceId").and_then(Value::as_str) {
        let prefixed: String = format!("{}:{reference}", counter.fetch_add(1, Ordering::SeqCst))
            .chars()
            .take(255)
            .collect();
        body["referenceId"] = json!(prefixed);
    }
    body
}

fn check<T>(result: Result<T, proptest::test_runner::TestError<impl std::fmt::Debug>>) {
    if let Err(error) = result {
        panic!("{error}");
    }
}

#[test]
fn random_valid_users_are_created_and_read_back_field_for_field() {
    let rt = runtime();
    let h = rt.block_on(Harness::start());
    let acme = h.client(Acme);
    let validator = component_validator("CreateUserRequest");
    let counter = AtomicUsize::new(0);
    let result = runner(VALID_CASES).run(&bodies("CreateUserRequest", Mode::Random, &[]), |body| {
        let body = unique_reference(body, &counter);
        prop_assert!(
            validator.is_valid(&body),
            "the generator made an invalid body: {body}"
        );
        rt.block_on(async {
            let before = user_total(&acme).await;
            let created = acme
                .create_user()
                .body(typed::<types::CreateUserRequest>(body.clone()))
                .send()
                .await;
            let created = match created {
                Ok(created) => created.into_inner(),
                Err(error) => return Err(TestCaseError::fail(format!("{body} -> {error:?}"))),
            };
            let stored = json(&get_user(&acme, created.user_id).await);
            prop_assert_eq!(&stored, &json(&created));
            for (field, value) in body.as_object().unwrap() {
                prop_assert_eq!(&stored[field], value, "{} of {}", field, body);
            }
            if body.get("metadata").is_none() {
                prop_assert_eq!(&stored["metadata"], &json!({}));
            }
            // Whatever its characters, the reference finds the user through the client
            // (`rid_` + referenceId, which the client percent-encodes, backslashes included).
            if let Some(reference) = body.get("referenceId").and_then(Value::as_str) {
                let found = acme
                    .get_user()
                    .user_id(format!("rid_{reference}"))
                    .send()
                    .await;
                let found =
                    found.map_err(|e| TestCaseError::fail(format!("rid_{reference}: {e}")))?;
                prop_assert_eq!(found.into_inner().user_id, created.user_id);
            }
            prop_assert_eq!(user_total(&acme).await, before + 1);
            Ok(())
        })
    });
    rt.block_on(h.finish());
    check(result);
}

#[test]
fn random_valid_customers_are_created_and_read_back_field_for_field() {
    let rt = runtime();
    let h = rt.block_on(Harness::start());
    let acme = h.client(Acme);
    let pool = rt.block_on(pool(&acme));
    let validator = component_validator("CreateCustomerRequest");
    let counter = AtomicUsize::new(0);
    let strategy = bodies("CreateCustomerRequest", Mode::Random, &pool);
    let result = runner(VALID_CASES).run(&strategy, |body| {
        let body = unique_reference(body, &counter);
        prop_assert!(
            validator.is_valid(&body),
            "the generator made an invalid body: {body}"
        );
        rt.block_on(async {
            let before = customer_total(&acme).await;
            let created = acme
                .create_customer()
                .body(typed::<types::CreateCustomerRequest>(body.clone()))
                .send()
                .await;
            let created = match created {
                Ok(created) => created.into_inner(),
                Err(error) => return Err(TestCaseError::fail(format!("{body} -> {error:?}"))),
            };
            let stored = json(&get_customer(&acme, created.customer_id).await);
            prop_assert_eq!(&stored, &json(&created));
            for (field, value) in body.as_object().unwrap() {
                if field == "userIds" {
                    continue;
                }
                prop_assert_eq!(
                    without_nulls(&stored[field]),
                    without_nulls(value),
                    "{} of {}",
                    field,
                    body
                );
            }
            // Linked: every listed user and the contact person, once each, as MEMBER.
            let mut expected: Vec<Value> = body["userIds"].as_array().cloned().unwrap_or_default();
            if let Some(person) = body.get("contactPersonUserId")
                && !expected.contains(person)
            {
                expected.push(person.clone());
            }
            let linked: Vec<Value> = stored["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["userId"].clone())
                .collect();
            prop_assert_eq!(&linked, &expected);
            prop_assert!(
                stored["users"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|u| u["role"] == "MEMBER")
            );
            if let Some(person) = body.get("contactPersonUserId") {
                prop_assert_eq!(&stored["contactPerson"]["userId"], person);
            }
            prop_assert_eq!(customer_total(&acme).await, before + 1);
            Ok(())
        })
    });
    rt.block_on(h.finish());
    check(result);
}

/// Sends a mutated body raw (the typed client would refuse it) and checks the answer.
async fn reject(
    h: &Harness,
    method: reqwest::Method,
    path: &str,
    mutation: &Mutation,
) -> Result<(), TestCaseError> {
    let response = h
        .raw(Acme, method.clone(), path)
        .json(&mutation.body)
        .send()
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let (status, body) = read(response).await;
    let named = body["details"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|d| d["property"] == mutation.property.as_str());
    prop_assert!(
        status == mutation.status && body["code"] == mutation.code && named,
        "{method} {path}: {} at {:?} should be {} {} naming it; got {status} {body}\nbody sent: {}",
        mutation.what,
        mutation.property,
        mutation.status,
        mutation.code,
        mutation.body
    );
    Ok(())
}

/// Every mutation is what it claims: schema violations break the schema, rule violations do
/// not (so that only the server's own checks can catch them).
fn self_check(name: &str, validator: &jsonschema::Validator, mutation: &Mutation) {
    assert_eq!(
        !validator.is_valid(&mutation.body),
        mutation.schema_violation,
        "{name}: {} at {}: {}",
        mutation.what,
        mutation.property,
        mutation.body
    );
}

fn random_invalid(name: &str, path: &str) {
    let rt = runtime();
    let h = rt.block_on(Harness::start());
    let acme = h.client(Acme);
    let pool = rt.block_on(pool(&acme));
    let strategy = (bodies(name, Mode::Full, &pool), any::<Index>());
    let validator = component_validator(name);
    let result = runner(INVALID_CASES).run(&strategy, |(body, index)| {
        let mut all = mutations(&component(name), &body);
        all.extend(rule_mutations(name, &body));
        let mutation = index.get(&all);
        self_check(name, &validator, mutation);
        rt.block_on(async {
            let before = (user_total(&acme).await, customer_total(&acme).await);
            reject(&h, reqwest::Method::POST, path, mutation).await?;
            let after = (user_total(&acme).await, customer_total(&acme).await);
            prop_assert_eq!(after, before, "{} stored something", mutation.what);
            Ok(())
        })
    });
    rt.block_on(h.finish());
    check(result);
}

#[test]
fn random_invalid_users_are_400_naming_the_property_and_store_nothing() {
    random_invalid("CreateUserRequest", "/users");
}

#[test]
fn random_invalid_customers_are_400_naming_the_property_and_store_nothing() {
    random_invalid("CreateCustomerRequest", "/customers");
}

/// Every constraint of every request body of the spec, broken in turn (one full valid body per
/// operation, every mutation of it): a 400 naming the property, and no change at all.
#[tokio::test]
async fn every_constraint_of_every_request_body_is_enforced_in_turn() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let pool = pool(&acme).await;
    let user_id = user(&acme, "Subject").await.user_id;
    let customer_id = customer(&acme, "Subject").await.customer_id;
    let snapshot = async || {
        let users = expect_ok(acme.list_users().limit(1000u64).send().await, 200).into_inner();
        let customers =
            expect_ok(acme.list_customers().limit(1000u64).send().await, 200).into_inner();
        json!([json(&users), json(&customers)])
    };
    let before = snapshot().await;
    let mut runner = TestRunner::deterministic();
    let mut swept = Vec::new();
    for operation in &spec().operations {
        let Some(reference) = spec()
            .document
            .pointer(&format!(
                "/paths/{}/{}/requestBody/content/application~1json/schema/$ref",
                operation.template.replace('~', "~0").replace('/', "~1"),
                operation.method.to_ascii_lowercase()
            ))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let name = reference.rsplit('/').next().unwrap();
        let path = operation
            .template
            .replace("{userId}", &user_id.to_string())
            .replace("{customerId}", &customer_id.to_string());
        assert!(
            !path.contains('{'),
            "no fixture for a parameter of {}",
            operation.template
        );
        let body = bodies(name, Mode::Full, &pool)
            .new_tree(&mut runner)
            .expect("a body")
            .current();
        let mut all = mutations(&component(name), &body);
        all.extend(rule_mutations(name, &body));
        let validator = component_validator(name);
        for mutation in &all {
            self_check(name, &validator, mutation);
            let method = operation.method.parse().expect("an HTTP method");
            if let Err(error) = reject(&h, method, &path, mutation).await {
                panic!("{}: {error}", operation.id);
            }
        }
        swept.push((operation.id.clone(), all.len()));
    }
    assert_eq!(
        snapshot().await,
        before,
        "an invalid body changed something"
    );
    assert_eq!(swept.len(), 7, "every operation with a body: {swept:?}");
    h.finish().await;
}
