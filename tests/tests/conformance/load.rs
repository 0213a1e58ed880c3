//! A bounded concurrent load (8 clients x 50 operations, two tenants, a time limit), then every
//! invariant of the data: counts, both sides of every link agree, unique references and
//! human-readable ids, no object seen across tenants.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use connect_client::types;
use connect_client::{Client, Error};
use serde_json::json;
use uuid::Uuid;

use crate::common::*;

const CLIENTS: usize = 8;
const OPERATIONS_PER_CLIENT: usize = 50;
/// A guard: the load stops itself even if the server stalls.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// What one tenant's clients created, by the server's answers.
#[derive(Default)]
struct Created {
    users: Mutex<Vec<Uuid>>,
    customers: Mutex<Vec<Uuid>>,
}

/// A small deterministic generator, so that a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick(&mut self, from: &Mutex<Vec<Uuid>>) -> Option<Uuid> {
        let from = from.lock().unwrap();
        (!from.is_empty()).then(|| from[self.below(from.len())])
    }
}

/// The status of an answer, whatever its type.
fn status<T>(result: &Result<connect_client::ResponseValue<T>, Error<types::Error>>) -> u16 {
    match result {
        Ok(response) => response.status().as_u16(),
        Err(error) => error.status().map_or(0, |s| s.as_u16()),
    }
}

async fn worker(client: Client, worker: usize, created: &Created) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (worker as u64 + 1));
    for i in 0..OPERATIONS_PER_CLIENT {
        let roll = rng.below(100);
        let reference = format!("w{worker}-{i}");
        match roll {
            0..15 => {
                let key = format!("user-{reference}");
                let body = typed::<types::CreateUserRequest>(
                    json!({"name": format!("User {reference}"), "referenceId": reference}),
                );
                let first = client
                    .create_user()
                    .x_idempotency_key(&*key)
                    .body(body.clone())
                    .send()
                    .await;
                let user = expect_ok(first, 201).into_inner();
                created.users.lock().unwrap().push(user.user_id);
                // A retry now and then: replayed, nothing created twice.
                if rng.below(3) == 0 {
                    let again = expect_ok(
                        client
                            .create_user()
                            .x_idempotency_key(&*key)
                            .body(body)
                            .send()
                            .await,
                        201,
                    );
                    assert!(replayed(&again));
                    assert_eq!(again.into_inner().user_id, user.user_id);
                }
            }
            15..25 => {
                let user_ids: Vec<Uuid> = (0..rng.below(3))
                    .filter_map(|_| rng.pick(&created.users))
                    .collect();
                let user_ids: BTreeSet<Uuid> = user_ids.into_iter().collect();
                let customer = expect_ok(
                    client
                        .create_customer()
                        .body(typed::<types::CreateCustomerRequest>(json!({
                            "customerType": if rng.below(2) == 0 { "CONSUMER" } else { "BUSINESS" },
                            "name": format!("Customer {reference}"),
                            "referenceId": reference,
                            "userIds": user_ids,
                        })))
                        .send()
                        .await,
                    201,
                )
                .into_inner();
                created.customers.lock().unwrap().push(customer.customer_id);
            }
            25..55 => {
                let (Some(customer), Some(user)) =
                    (rng.pick(&created.customers), rng.pick(&created.users))
                else {
                    continue;
                };
                let result = client
                    .add_user_to_customer()
                    .customer_id(customer.to_string())
                    .body(types::AddUserToCustomerRequest::builder().user_id(user))
                    .send()
                    .await;
                assert!(matches!(status(&result), 201 | 409), "link: {result:?}");
            }
            55..70 => {
                let (Some(customer), Some(user)) =
                    (rng.pick(&created.customers), rng.pick(&created.users))
                else {
                    continue;
                };
                let result = client
                    .remove_user_from_customer()
                    .customer_id(customer.to_string())
                    .user_id(user)
                    .send()
                    .await;
                assert!(matches!(status(&result), 204 | 404), "unlink: {result:?}");
            }
            _ => match (
                rng.below(4),
                rng.pick(&created.users),
                rng.pick(&created.customers),
            ) {
                (0, Some(user), _) => {
                    get_user(&client, user).await;
                }
                (1, _, Some(customer)) => {
                    get_customer(&client, customer).await;
                }
                (2, _, Some(customer)) => {
                    let page = client.list_users().customer_id(vec![customer]).send().await;
                    expect_ok(page, 200);
                }
                _ => {
                    expect_ok(client.list_customers().limit(50u64).send().await, 200);
                }
            },
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_leave_every_invariant_intact() {
    let h = Harness::start().await;
    let tenants = [Acme, Globex];
    let created: [Created; 2] = Default::default();
    let started = Instant::now();
    let workers = (0..CLIENTS).map(|w| {
        let tenant = w % 2;
        worker(h.client(tenants[tenant]), w, &created[tenant])
    });
    tokio::time::timeout(TIME_LIMIT, futures::future::join_all(workers))
        .await
        .expect("the load finishes within its time limit");
    let elapsed = started.elapsed();
    eprintln!(
        "load: {} operations in {elapsed:?}",
        CLIENTS * OPERATIONS_PER_CLIENT
    );

    for (tenant, created) in tenants.into_iter().zip(&created) {
        let client = h.client(tenant);
        let users = expect_ok(client.list_users().limit(1000u64).send().await, 200).into_inner();
        let customers =
            expect_ok(client.list_customers().limit(1000u64).send().await, 200).into_inner();
        // Counts: exactly what was created, once each (retries replayed, not re-created).
        let mut user_ids: Vec<Uuid> = created.users.lock().unwrap().clone();
        let mut customer_ids: Vec<Uuid> = created.customers.lock().unwrap().clone();
        user_ids.sort();
        customer_ids.sort();
        let mut listed_users: Vec<Uuid> = users.items.iter().map(|u| u.user_id).collect();
        let mut listed_customers: Vec<Uuid> =
            customers.items.iter().map(|c| c.customer_id).collect();
        listed_users.sort();
        listed_customers.sort();
        assert_eq!(listed_users, user_ids, "{tenant:?} users");
        assert_eq!(listed_customers, customer_ids, "{tenant:?} customers");
        assert_eq!(users.pagination.total as usize, user_ids.len());
        assert_eq!(customers.pagination.total as usize, customer_ids.len());
        assert!(
            !user_ids.is_empty() && !customer_ids.is_empty(),
            "the load did something"
        );

        // Both sides of every link agree.
        let from_customers: BTreeSet<(Uuid, Uuid)> = customers
            .items
            .iter()
            .flat_map(|c| c.users.iter().map(move |u| (c.customer_id, u.user_id)))
            .collect();
        let from_users: BTreeSet<(Uuid, Uuid)> = users
            .items
            .iter()
            .flat_map(|u| u.customer_ids.iter().map(move |c| (*c, u.user_id)))
            .collect();
        assert_eq!(
            from_customers, from_users,
            "{tenant:?}: the two sides of the links"
        );
        let link_count: usize = customers.items.iter().map(|c| c.users.len()).sum();
        assert_eq!(
            link_count,
            from_customers.len(),
            "{tenant:?}: a user linked twice"
        );
        let names: BTreeMap<Uuid, String> = customers
            .items
            .iter()
            .map(|c| (c.customer_id, c.name.to_string()))
            .collect();
        for user in &users.items {
            let refs: Vec<(Uuid, String)> = user
                .customers
                .iter()
                .map(|r| (r.customer_id, r.name.to_string()))
                .collect();
            let expected: Vec<(Uuid, String)> = user
                .customer_ids
                .iter()
                .map(|c| (*c, names[c].clone()))
                .collect();
            assert_eq!(
                refs, expected,
                "customers and customerIds of {}",
                user.user_id
            );
        }

        // Unique references and human-readable ids.
        let references: BTreeSet<String> = users
            .items
            .iter()
            .filter_map(|u| u.reference_id.as_ref().map(|r| r.to_string()))
            .collect();
        assert_eq!(references.len(), users.items.len());
        let references: BTreeSet<String> = customers
            .items
            .iter()
            .filter_map(|c| c.reference_id.as_ref().map(|r| r.to_string()))
            .collect();
        assert_eq!(references.len(), customers.items.len());
        let readable: BTreeSet<String> = customers
            .items
            .iter()
            .map(|c| c.human_readable_id.to_string())
            .collect();
        assert_eq!(readable.len(), customers.items.len());
    }
    h.finish().await;
}
