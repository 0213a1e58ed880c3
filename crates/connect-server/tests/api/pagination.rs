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
        let mut pagination = page.body["pagination"].clone();
        let next = pagination.as_object_mut().unwrap().remove("nextCursor");
        assert_eq!(
            pagination,
            json!({"total": 7, "limit": 1, "offset": offset, "sort": {"key": "createdAt", "direction": "ASC"}})
        );
        assert_eq!(next.is_some(), offset < 6);
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

/// A walk by cursors sees every user that existed for the whole walk exactly once, while users
/// are created and renamed beside it; its pages say where they sit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_walk_sees_each_original_user_once_while_users_come_and_change() {
    use std::collections::HashSet;
    use std::sync::Arc;

    use connect_server::clock::ManualClock;
    use connect_server::store::{InMemoryStore, Quotas};

    const ORIGINAL: usize = 10_000;
    let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
    let store = Arc::new(InMemoryStore::with_quotas(
        clock.clone(),
        Quotas {
            users: 100_000,
            customers: 10,
        },
    ));
    let server = crate::common::start_with_limits(clock, store, Default::default());
    let (http, base) = (server.http.clone(), server.base.clone());
    let post = move |name: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let reply: Value = http
                .post(format!("{base}/users"))
                .header("X-API-Key", crate::common::ACME)
                .json(&json!({ "name": name }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            reply["userId"].as_str().unwrap().to_string()
        }
    };
    // The originals, eight requests at a time.
    let mut original = Vec::new();
    for batch in (0..ORIGINAL).collect::<Vec<_>>().chunks(ORIGINAL / 8) {
        let tasks: Vec<_> = batch
            .iter()
            .map(|i| tokio::spawn(post(format!("original {i}"))))
            .collect();
        for task in tasks {
            original.push(task.await.unwrap());
        }
    }
    // Beside the walk: new users, and renames of the originals.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let (stop, post) = (stop.clone(), post.clone());
        let (http, base, original) = (server.http.clone(), server.base.clone(), original.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                post(format!("newcomer {i}")).await;
                let id = &original[(i * 7919) % original.len()];
                http.put(format!("{base}/users/{id}"))
                    .header("X-API-Key", crate::common::ACME)
                    .json(&json!({ "name": format!("renamed {i}") }))
                    .send()
                    .await
                    .unwrap();
                i += 1;
            }
            i
        })
    };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/users?limit=100&cursor={cursor}"),
            None => "/users?limit=100".to_string(),
        };
        let page = server.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        let items = ids(&page.body, "userId");
        if cursor.is_some() {
            // Where it starts in the list as it is now: after what was seen, and after any
            // newcomer that sorts before the cursor (this clock stands still, so newcomers tie
            // on createdAt and sort by id).
            let offset = page.body["pagination"]["offset"].as_u64().unwrap() as usize;
            assert!(offset >= seen.len(), "{offset} < {}", seen.len());
        }
        seen.extend(items);
        pages += 1;
        assert!(pages < 1_000, "the walk does not end");
        match page.body["pagination"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let changes = churn.await.unwrap();
    assert!(changes > 0, "nothing changed during the walk");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "an item seen twice");
    for id in &original {
        assert!(unique.contains(id), "original user {id} missed");
    }
    assert!(pages > ORIGINAL / 100);
}

/// A cursor is good only for the list and the tenant it was given for: a forged, altered or
/// borrowed one is a 400 naming `query/cursor`, never a page of someone else's data.
#[tokio::test]
async fn a_forged_altered_or_borrowed_cursor_is_a_400() {
    let server = start();
    for i in 0..3 {
        server.user(&format!("u{i}")).await;
        server.customer(&format!("c{i}")).await;
    }
    let page = server.get("/users?limit=1").await;
    let cursor = page.body["pagination"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_string();
    let next = server.get(&format!("/users?limit=1&cursor={cursor}")).await;
    assert_eq!(next.status, StatusCode::OK);
    let mut altered = cursor.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'0' { b'1' } else { b'0' };
    let altered = String::from_utf8(altered).unwrap();
    for (path, key) in [
        (format!("/users?cursor={altered}"), crate::common::ACME),
        ("/users?cursor=c1deadbeef".to_string(), crate::common::ACME),
        (format!("/customers?cursor={cursor}"), crate::common::ACME),
        (format!("/users?cursor={cursor}"), crate::common::GLOBEX),
    ] {
        let reply = server
            .send(reqwest::Method::GET, &path, Some(key), &[], None)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}: {reply:?}");
        assert_eq!(reply.code(), "validation_error");
        assert_eq!(reply.properties(), ["query/cursor"]);
    }
}
