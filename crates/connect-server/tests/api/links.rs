//! A user-customer link is one fact seen from both sides, and names follow renames.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{ACME, Server, start};

async fn linked_users(server: &Server, customer: &str) -> Vec<String> {
    let body = server.get(&format!("/customers/{customer}")).await.body;
    body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].as_str().unwrap().to_string())
        .collect()
}

async fn linked_customers(server: &Server, user: &str) -> (Vec<Value>, Vec<Value>) {
    let body = server.get(&format!("/users/{user}")).await.body;
    (
        body["customerIds"].as_array().unwrap().clone(),
        body["customers"].as_array().unwrap().clone(),
    )
}

#[tokio::test]
async fn adding_and_removing_a_link_shows_on_both_sides() {
    let server = start();
    let user = server.user("Ada").await;
    let customer = server.customer("Acme").await;
    let added = server
        .post(
            &format!("/customers/{customer}/users"),
            json!({"userId": user, "role": "ADMIN"}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    assert_eq!(
        added.body,
        json!({"userId": user, "name": "Ada", "role": "ADMIN"})
    );
    assert_eq!(linked_users(&server, &customer).await, vec![user.clone()]);
    let (ids, refs) = linked_customers(&server, &user).await;
    assert_eq!(ids, [json!(customer)]);
    assert_eq!(refs, [json!({"customerId": customer, "name": "Acme"})]);

    let again = server
        .post(
            &format!("/customers/{customer}/users"),
            json!({"userId": user}),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "conflict")
    );

    let path = format!("/customers/{customer}/users?userId={user}");
    let removed = server
        .send(Method::DELETE, &path, Some(ACME), &[], None)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert!(linked_users(&server, &customer).await.is_empty());
    assert!(linked_customers(&server, &user).await.0.is_empty());
    let twice = server
        .send(Method::DELETE, &path, Some(ACME), &[], None)
        .await;
    assert_eq!(
        (twice.status, twice.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
}

#[tokio::test]
async fn the_default_role_is_member_and_renames_show_across_the_link() {
    let server = start();
    let user = server.user("Ada").await;
    let customer = server.customer("Acme").await;
    let added = server
        .post(
            &format!("/customers/{customer}/users"),
            json!({"userId": user}),
        )
        .await;
    assert_eq!(added.body["role"], "MEMBER");
    server
        .put(
            &format!("/customers/{customer}"),
            json!({"name": "Acme Renamed"}),
        )
        .await;
    assert_eq!(
        linked_customers(&server, &user).await.1[0]["name"],
        "Acme Renamed"
    );
    server
        .put(&format!("/users/{user}"), json!({"name": "Ada Lovelace"}))
        .await;
    assert_eq!(
        server.get(&format!("/customers/{customer}")).await.body["users"][0]["name"],
        "Ada Lovelace"
    );
}

#[tokio::test]
async fn create_customer_links_its_users_and_its_contact_person() {
    let server = start();
    let a = server.user("A").await;
    let b = server.user("B").await;
    let c = server.user("C").await;
    let created = server
        .post("/customers", json!({"name": "Acme", "customerType": "CONSUMER", "userIds": [a, b], "contactPersonUserId": c}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let customer = created.body["customerId"].as_str().unwrap().to_string();
    assert_eq!(
        linked_users(&server, &customer).await,
        [a.clone(), b.clone(), c.clone()]
    );
    assert_eq!(
        created.body["contactPerson"],
        json!({"userId": c, "name": "C", "role": "MEMBER"})
    );
    for user in [&a, &b, &c] {
        assert_eq!(linked_customers(&server, user).await.0, [json!(customer)]);
    }
    let hrid = created.body["humanReadableId"].as_str().unwrap();
    assert!(
        hrid.len() == 12 && hrid.chars().nth(3) == Some('-'),
        "{hrid}"
    );

    // Unlinking the contact person leaves the customer without one, and changes it.
    server.clock.advance(chrono::Duration::seconds(1));
    let path = format!("/customers/{customer}/users?userId={c}");
    let removed = server
        .send(Method::DELETE, &path, Some(ACME), &[], None)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let after = server.get(&format!("/customers/{customer}")).await.body;
    assert!(
        after.get("contactPersonUserId").is_none() && after.get("contactPerson").is_none(),
        "{after}"
    );
    assert_ne!(after["updatedAt"], created.body["updatedAt"]);
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let server = start();
    let user = server.user("Ada").await;
    let ghost = uuid::Uuid::new_v4();
    for path in [
        format!("/users/{ghost}"),
        "/users/not-a-uuid".into(),
        "/users/rid_missing".into(),
        format!("/customers/{ghost}"),
    ] {
        let reply = server.get(&path).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{path}"
        );
    }
    let reply = server
        .post(
            &format!("/customers/{ghost}/users"),
            json!({"userId": user}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

/// 50 concurrent adds and removes on one customer: no lost update, both sides agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_adds_and_removes_leave_both_sides_consistent() {
    let server = Arc::new(start());
    let customer = server.customer("Acme").await;
    let mut users = Vec::new();
    for i in 0..25 {
        users.push(server.user(&format!("u{i}")).await);
    }
    // Every user is added; every even one is then removed, all at once.
    let tasks = users.iter().enumerate().map(|(i, user)| {
        let server = server.clone();
        let (customer, user) = (customer.clone(), user.clone());
        tokio::spawn(async move {
            let added = server
                .post(
                    &format!("/customers/{customer}/users"),
                    json!({"userId": user}),
                )
                .await;
            assert_eq!(added.status, StatusCode::CREATED);
            if i % 2 == 0 {
                let path = format!("/customers/{customer}/users?userId={user}");
                let removed = server
                    .send(Method::DELETE, &path, Some(ACME), &[], None)
                    .await;
                assert_eq!(removed.status, StatusCode::NO_CONTENT);
            }
        })
    });
    for task in futures::future::join_all(tasks).await {
        task.unwrap();
    }
    let mut expected: Vec<String> = users
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, u)| u.clone())
        .collect();
    let mut found = linked_users(&server, &customer).await;
    expected.sort();
    found.sort();
    assert_eq!(found, expected);
    for (i, user) in users.iter().enumerate() {
        let ids = linked_customers(&server, user).await.0;
        assert_eq!(ids.len(), i % 2, "user {i}: {ids:?}");
    }
    let listed = server
        .get(&format!("/users?customerId={customer}&limit=1000"))
        .await;
    assert_eq!(listed.body["pagination"]["total"], expected.len());
}
