//! Every operation needs a key; a key sees only its tenant; other tenants' objects are 404.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{GLOBEX, start};

#[tokio::test]
async fn every_operation_refuses_a_missing_or_unknown_key_with_the_error_body() {
    let server = start();
    let user = server.user("Ada").await;
    let customer = server.customer("Acme").await;
    let id = uuid::Uuid::new_v4();
    let operations = [
        (Method::GET, "/users".to_string(), None),
        (
            Method::POST,
            "/users".to_string(),
            Some(json!({"name": "x"})),
        ),
        (Method::GET, format!("/users/{user}"), None),
        (
            Method::PUT,
            format!("/users/{user}"),
            Some(json!({"name": "x"})),
        ),
        (
            Method::POST,
            "/tools/verify-user-exists".to_string(),
            Some(json!({"email": "a@b.co"})),
        ),
        (Method::GET, "/customers".to_string(), None),
        (
            Method::POST,
            "/customers".to_string(),
            Some(json!({"name": "x", "customerType": "CONSUMER"})),
        ),
        (Method::GET, format!("/customers/{customer}"), None),
        (
            Method::PUT,
            format!("/customers/{customer}"),
            Some(json!({"name": "x"})),
        ),
        (
            Method::PUT,
            format!("/customers/{customer}/billing"),
            Some(json!({"method": "EMAIL_INVOICE", "email": "a@b.co"})),
        ),
        (
            Method::POST,
            format!("/customers/{customer}/users"),
            Some(json!({"userId": user})),
        ),
        (
            Method::DELETE,
            format!("/customers/{customer}/users?userId={id}"),
            None,
        ),
    ];
    for (method, path, body) in operations {
        for key in [None, Some("wrong-key"), Some("")] {
            let reply = server
                .send(method.clone(), &path, key, &[], body.clone())
                .await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {key:?}: {reply:?}"
            );
            assert_eq!(reply.code(), "unauthorized");
            assert!(reply.body["requestId"].is_string());
        }
    }
    // Nothing was changed by the refused writes.
    assert_eq!(server.user_total().await, 1);
    assert_eq!(
        server.get(&format!("/customers/{customer}")).await.body["name"],
        "Acme"
    );
}

#[tokio::test]
async fn an_unauthenticated_request_learns_nothing_even_when_invalid() {
    let server = start();
    let reply = server
        .send(Method::POST, "/users", None, &[], Some(json!({"name": 5})))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn another_tenants_objects_are_not_found_and_never_listed() {
    let server = start();
    let user = server.user("Ada").await;
    let customer = server.customer("Acme").await;
    server
        .put(&format!("/users/{user}"), json!({"referenceId": "crm-1"}))
        .await;
    let other = |method: Method, path: String, body| {
        let server = &server;
        async move { server.send(method, &path, Some(GLOBEX), &[], body).await }
    };
    for (method, path, body) in [
        (Method::GET, format!("/users/{user}"), None),
        (Method::GET, "/users/rid_crm-1".to_string(), None),
        (
            Method::PUT,
            format!("/users/{user}"),
            Some(json!({"name": "stolen"})),
        ),
        (Method::GET, format!("/customers/{customer}"), None),
        (
            Method::PUT,
            format!("/customers/{customer}"),
            Some(json!({"name": "stolen"})),
        ),
        (
            Method::PUT,
            format!("/customers/{customer}/billing"),
            Some(json!({"method": "EMAIL_INVOICE", "email": "a@b.co"})),
        ),
        (
            Method::DELETE,
            format!("/customers/{customer}/users?userId={user}"),
            None,
        ),
    ] {
        let reply = other(method.clone(), path.clone(), body).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {reply:?}"
        );
        assert_eq!(reply.code(), "not_found");
    }
    // Globex cannot link acme's user to its own customer either: the user is not its user.
    let globex_customer = server
        .send(
            Method::POST,
            "/customers",
            Some(GLOBEX),
            &[],
            Some(json!({"name": "G", "customerType": "CONSUMER"})),
        )
        .await
        .body["customerId"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = other(
        Method::POST,
        format!("/customers/{globex_customer}/users"),
        Some(json!({"userId": user})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.properties(), ["/userId"]);
    let listed = other(Method::GET, "/users".to_string(), None).await;
    assert_eq!(listed.body["pagination"]["total"], 0);
    let exists = other(
        Method::POST,
        "/tools/verify-user-exists".to_string(),
        Some(json!({"email": "x@y.co"})),
    )
    .await;
    assert_eq!(exists.body["exists"], false);
    assert_eq!(
        server.get(&format!("/users/{user}")).await.body["name"],
        "Ada"
    );
}

#[tokio::test]
async fn reference_ids_are_unique_per_tenant_not_globally() {
    let server = start();
    let first = server
        .post("/users", json!({"name": "A", "referenceId": "r-1"}))
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let duplicate = server
        .post("/users", json!({"name": "B", "referenceId": "r-1"}))
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_eq!(duplicate.code(), "conflict");
    let other_tenant = server
        .send(
            Method::POST,
            "/users",
            Some(GLOBEX),
            &[],
            Some(json!({"name": "C", "referenceId": "r-1"})),
        )
        .await;
    assert_eq!(other_tenant.status, StatusCode::CREATED);
    assert_eq!(server.user_total().await, 1);
    let by_reference = server.get("/users/rid_r-1").await;
    assert_eq!(by_reference.body["userId"], first.body["userId"]);
}

#[tokio::test]
async fn the_spec_is_served_without_a_key() {
    let server = start();
    let response = server
        .http
        .get(format!("{}/openapi.yaml", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/yaml");
    assert_eq!(response.text().await.unwrap(), connect_server::SPEC_YAML);
}

/// The reference page is served without a key, names every operation of the spec with an
/// anchor, and its policy lets it load nothing.
#[tokio::test]
async fn the_docs_page_is_served_without_a_key_and_names_every_operation() {
    let server = start();
    let response = server
        .http
        .get(format!("{}/docs", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    let page = response.text().await.unwrap();
    let spec: serde_json::Value = serde_yaml::from_str(connect_server::SPEC_YAML).unwrap();
    let mut ids = 0;
    for item in spec["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            if let Some(id) = operation["operationId"].as_str() {
                assert!(page.contains(&format!("id=\"{id}\"")), "{id} has no anchor");
                ids += 1;
            }
        }
    }
    assert_eq!(ids, 12);
}

/// A path parameter reads the same however the path spells it: percent-escaped, with empty
/// segments or a trailing slash (normalized and decoded by dropshot's router) as plainly (read
/// by the operation's template), and a segment that decodes to a `/` stays one value.
#[tokio::test]
async fn a_path_parameter_reads_the_same_however_the_path_spells_it() {
    let server = start();
    let plain = server
        .post("/users", json!({"name": "A", "referenceId": "crm-7"}))
        .await;
    assert_eq!(plain.status, StatusCode::CREATED);
    let spaced = server
        .post("/users", json!({"name": "B", "referenceId": "r 1/ü"}))
        .await;
    assert_eq!(spaced.status, StatusCode::CREATED);
    for (path, expected) in [
        ("/users/rid_crm-7", &plain),
        ("/users/rid_%63rm-7", &plain),
        ("//users//rid_crm-7", &plain),
        ("/users/rid_crm-7/", &plain),
        ("/users/rid_r%201%2F%C3%BC", &spaced),
    ] {
        let found = server.get(path).await;
        assert_eq!(found.status, StatusCode::OK, "{path}: {:?}", found.body);
        assert_eq!(found.body["userId"], expected.body["userId"], "{path}");
    }
    let user_id = plain.body["userId"].as_str().unwrap();
    let by_id = server.get(&format!("/users/{user_id}")).await;
    assert_eq!(by_id.body["referenceId"], "crm-7");
    let missing = server.get("/users/rid_crm-8").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
