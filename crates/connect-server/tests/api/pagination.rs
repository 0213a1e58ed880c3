//! limit/offset pages with a true total, in createdAt-then-id order, and the filters.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::start;

fn ids(page: &Value, key: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn pages_walk_every_user_once_in_order_with_a_true_total() {
    let server = start();
    let mut created = Vec::new();
    for i in 0..7 {
        // Two users per instant: ties on createdAt are broken by id.
        if i % 2 == 0 {
            server.clock.advance(Duration::milliseconds(1));
        }
        let reply = server
            .post("/users", json!({"name": format!("user {i}")}))
            .await;
        created.push((
            reply.body["createdAt"].as_str().unwrap().to_string(),
            reply.body["userId"].as_str().unwrap().to_string(),
        ));
    }
    created.sort();
    let expected: Vec<String> = created.into_iter().map(|(_, id)| id).collect();

    let mut walked = Vec::new();
    for offset in 0..7 {
        let page = server.get(&format!("/users?limit=1&offset={offset}")).await;
        assert_eq!(
            page.body["pagination"],
            json!({"total": 7, "limit": 1, "offset": offset, "sort": {"key": "createdAt", "direction": "ASC"}})
        );
        walked.extend(ids(&page.body, "userId"));
    }
    assert_eq!(walked, expected);
    let all = server.get("/users?limit=1000").await;
    assert_eq!(ids(&all.body, "userId"), expected);
    let default = server.get("/users").await;
    assert_eq!(default.body["pagination"]["limit"], 100);
    let past = server.get("/users?offset=7").await;
    assert_eq!(past.status, StatusCode::OK);
    assert_eq!(past.body["items"], json!([]));
    assert_eq!(past.body["pagination"]["total"], 7);
    let far = server.get("/users?offset=9223372036854775807").await;
    assert_eq!(far.body["items"], json!([]));
    // `offset` is an int64: one more is not an offset at all.
    let beyond = server.get("/users?offset=9223372036854775808").await;
    assert_eq!(beyond.status, StatusCode::BAD_REQUEST);
    assert_eq!(beyond.properties(), ["query/offset"]);
}

#[tokio::test]
async fn filters_match_case_insensitively_and_count_only_matches() {
    let server = start();
    for body in [
        json!({"name": "Ada Lovelace", "email": "ada@example.com"}),
        json!({"name": "Grace Hopper", "email": "grace@NAVY.mil"}),
        json!({"name": "Alan Turing"}),
    ] {
        server.clock.advance(Duration::milliseconds(1));
        server.post("/users", body).await;
    }
    let page = server.get("/users?filter=navy").await;
    assert_eq!(page.body["pagination"]["total"], 1);
    assert_eq!(page.body["items"][0]["name"], "Grace Hopper");
    let page = server.get("/users?filter=A&limit=1&offset=1").await;
    assert_eq!(page.body["pagination"]["total"], 3);
    assert_eq!(page.body["items"][0]["name"], "Grace Hopper");

    server
        .post(
            "/customers",
            json!({"name": "Shop", "customerType": "CONSUMER"}),
        )
        .await;
    server.post("/customers", json!({"name": "Big Corp", "customerType": "BUSINESS", "contact": {"email": "ops@bigcorp.test"}})).await;
    let page = server.get("/customers?customerType=BUSINESS").await;
    assert_eq!(page.body["pagination"]["total"], 1);
    let page = server.get("/customers?filter=BIGCORP").await;
    assert_eq!(page.body["items"][0]["name"], "Big Corp");
    let page = server
        .get("/customers?filter=shop&customerType=BUSINESS")
        .await;
    assert_eq!(page.body["pagination"]["total"], 0);
}

#[tokio::test]
async fn customer_id_filters_walk_the_links_and_may_repeat() {
    let server = start();
    let users: Vec<String> = futures::future::join_all((0..4).map(|i| {
        let server = &server;
        async move { server.user(&format!("u{i}")).await }
    }))
    .await;
    let a = server
        .post(
            "/customers",
            json!({"name": "A", "customerType": "CONSUMER", "userIds": [users[0], users[1]]}),
        )
        .await;
    let b = server
        .post(
            "/customers",
            json!({"name": "B", "customerType": "CONSUMER", "userIds": [users[1], users[2]]}),
        )
        .await;
    let (a, b) = (
        a.body["customerId"].as_str().unwrap(),
        b.body["customerId"].as_str().unwrap(),
    );
    let both = server
        .get(&format!("/users?customerId={a}&customerId={b}"))
        .await;
    let mut found = ids(&both.body, "userId");
    found.sort();
    let mut expected = users[..3].to_vec();
    expected.sort();
    assert_eq!(found, expected);
    assert_eq!(both.body["pagination"]["total"], 3);
    let ghost = uuid::Uuid::new_v4();
    let none = server.get(&format!("/users?customerId={ghost}")).await;
    assert_eq!(none.body["pagination"]["total"], 0);
    let filtered = server
        .get(&format!("/users?customerId={a}&filter=u1"))
        .await;
    assert_eq!(ids(&filtered.body, "userId"), [users[1].clone()]);
}
