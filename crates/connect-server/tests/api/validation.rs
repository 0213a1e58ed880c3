//! Every constraint the spec declares: a violation is 400 `validation_error` with one detail per
//! bad property, and nothing is stored. (What depends on stored data, such as ids that name no
//! user, is a 404 or a 409: see the tests of links and references.)

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{ACME, Server, start};

/// `body` merged over `base`.
fn with(base: &Value, body: Value) -> Value {
    let mut merged = base.clone();
    for (key, value) in body.as_object().unwrap() {
        merged[key] = value.clone();
    }
    merged
}

async fn expect_invalid(
    server: &Server,
    method: Method,
    path: &str,
    body: Value,
    properties: &[&str],
) {
    let reply = server
        .send(method.clone(), path, Some(ACME), &[], Some(body.clone()))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{method} {path} {body}: {reply:?}"
    );
    assert_eq!(reply.code(), "validation_error", "{body}");
    let mut found = reply.properties();
    found.sort();
    let mut expected: Vec<String> = properties.iter().map(ToString::to_string).collect();
    expected.sort();
    assert_eq!(found, expected, "{method} {path} {body}: {reply:?}");
}

#[tokio::test]
async fn create_user_enforces_every_constraint_and_stores_nothing() {
    let server = start();
    let valid = json!({"name": "Ada"});
    let long = |n: usize| "x".repeat(n);
    let metadata_51: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({}), vec!["/name"]),
        (json!({"name": ""}), vec!["/name"]),
        (json!({"name": long(201)}), vec!["/name"]),
        (json!({"name": 5}), vec!["/name"]),
        (
            with(&valid, json!({"email": "not-an-email"})),
            vec!["/email"],
        ),
        (
            with(
                &valid,
                json!({"email": format!("{}@example.com", long(250))}),
            ),
            vec!["/email"],
        ),
        (
            with(&valid, json!({"msisdn": "5551234567"})),
            vec!["/msisdn"],
        ),
        (with(&valid, json!({"msisdn": "+0123"})), vec!["/msisdn"]),
        (
            with(&valid, json!({"msisdn": "+1234567890123456"})),
            vec!["/msisdn"],
        ),
        (
            with(&valid, json!({"identity": long(65)})),
            vec!["/identity"],
        ),
        (
            with(&valid, json!({"referenceId": ""})),
            vec!["/referenceId"],
        ),
        (
            with(&valid, json!({"referenceId": long(256)})),
            vec!["/referenceId"],
        ),
        (
            with(&valid, json!({"metadata": {"k": long(513)}})),
            vec!["/metadata/k"],
        ),
        (
            with(&valid, json!({"metadata": {"k": 1}})),
            vec!["/metadata/k"],
        ),
        (
            with(&valid, json!({"metadata": Value::Object(metadata_51)})),
            vec!["/metadata"],
        ),
        (with(&valid, json!({"unknown": 1})), vec!["/unknown"]),
        (
            json!({"name": "", "email": "x", "msisdn": "1"}),
            vec!["/name", "/email", "/msisdn"],
        ),
    ];
    for (body, properties) in cases {
        expect_invalid(&server, Method::POST, "/users", body, &properties).await;
    }
    assert_eq!(server.user_total().await, 0);
    let ok = server
        .post(
            "/users",
            json!({"name": "x".repeat(200), "msisdn": "+15551234567", "metadata": {"k": "v"}}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{ok:?}");
}

#[tokio::test]
async fn updates_are_validated_like_creates_and_change_nothing_when_invalid() {
    let server = start();
    let user = server.user("Ada").await;
    let before = server.get(&format!("/users/{user}")).await.body;
    expect_invalid(
        &server,
        Method::PUT,
        &format!("/users/{user}"),
        json!({"name": "", "email": "x"}),
        &["/name", "/email"],
    )
    .await;
    expect_invalid(
        &server,
        Method::PUT,
        &format!("/users/{user}"),
        json!({"metadata": {"k": "v".repeat(513)}}),
        &["/metadata/k"],
    )
    .await;
    assert_eq!(server.get(&format!("/users/{user}")).await.body, before);

    let customer = server.customer("Acme").await;
    let before = server.get(&format!("/customers/{customer}")).await.body;
    let path = format!("/customers/{customer}");
    expect_invalid(
        &server,
        Method::PUT,
        &path,
        json!({"preferredLocale": "not a locale"}),
        &["/preferredLocale"],
    )
    .await;
    expect_invalid(
        &server,
        Method::PUT,
        &path,
        json!({"contact": {"email": "nope"}}),
        &["/contact/email"],
    )
    .await;
    expect_invalid(
        &server,
        Method::PUT,
        &path,
        json!({"referenceId": "r"}),
        &["/referenceId"],
    )
    .await;
    expect_invalid(
        &server,
        Method::PUT,
        &path,
        json!({"billing": {"method": "PAPER_INVOICE"}}),
        &["/billing/address"],
    )
    .await;
    assert_eq!(server.get(&path).await.body, before);
}

#[tokio::test]
async fn create_customer_enforces_formats_enums_and_the_billing_and_reference_rules() {
    let server = start();
    let user = server.user("Ada").await;
    let valid = json!({"name": "Acme", "customerType": "BUSINESS"});
    let address =
        json!({"street1": "1 Main St", "city": "Springfield", "zip": "12345", "country": "US"});
    let ghost = uuid::Uuid::new_v4().to_string();
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"name": "Acme"}), vec!["/customerType"]),
        (
            json!({"name": "Acme", "customerType": "PERSON"}),
            vec!["/customerType"],
        ),
        (
            with(&valid, json!({"preferredLocale": "english"})),
            vec!["/preferredLocale"],
        ),
        (
            with(&valid, json!({"contact": {"msisdn": "12"}})),
            vec!["/contact/msisdn"],
        ),
        (
            with(
                &valid,
                json!({"billing": {"method": "EMAIL_INVOICE", "email": "a@b.co", "currency": "usd"}}),
            ),
            vec!["/billing/currency"],
        ),
        (
            with(
                &valid,
                json!({"billing": {"method": "PAPER_INVOICE", "address": {"street1": "x", "city": "y", "zip": "z", "country": "USA"}}}),
            ),
            vec!["/billing/address/country"],
        ),
        (
            with(
                &valid,
                json!({"billing": {"method": "PAPER_INVOICE", "address": {"city": "y", "zip": "z", "country": "US"}}}),
            ),
            vec!["/billing/address/street1"],
        ),
        (
            with(&valid, json!({"billing": {"method": "CHEQUE"}})),
            vec!["/billing/method"],
        ),
        (
            with(&valid, json!({"billing": {"method": "EMAIL_INVOICE"}})),
            vec!["/billing/email"],
        ),
        (
            with(&valid, json!({"billing": {"method": "PAPER_INVOICE"}})),
            vec!["/billing/address"],
        ),
        (
            with(
                &valid,
                json!({"billing": {"method": "PAPER_INVOICE", "autoPay": true, "defaultPaymentProfileId": null}}),
            ),
            vec!["/billing/address"],
        ),
        (
            with(&valid, json!({"userIds": [user, user]})),
            vec!["/userIds"],
        ),
        (
            with(&valid, json!({"userIds": ["not-a-uuid"]})),
            vec!["/userIds/0"],
        ),
        (
            with(
                &valid,
                json!({"shipping": {"instructions": "x".repeat(1001)}}),
            ),
            vec!["/shipping/instructions"],
        ),
        (
            with(&valid, json!({"humanReadableId": "29A-BY3Z-X78"})),
            vec!["/humanReadableId"],
        ),
    ];
    for (body, properties) in cases {
        expect_invalid(&server, Method::POST, "/customers", body, &properties).await;
    }
    // Users that are not there: the request is valid, the users it names are missing.
    for (body, property) in [
        (
            with(&valid, json!({"userIds": [user, ghost]})),
            "/userIds/1",
        ),
        (
            with(&valid, json!({"contactPersonUserId": ghost})),
            "/contactPersonUserId",
        ),
    ] {
        let reply = server.post("/customers", body).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{reply:?}");
        assert_eq!(reply.code(), "not_found");
        assert_eq!(reply.properties(), [property]);
    }
    assert_eq!(server.customer_total().await, 0);
    let created = server
        .post("/customers", with(&valid, json!({"billing": {"method": "PAPER_INVOICE", "address": address, "autoPay": true, "defaultPaymentProfileId": "pp-1"}, "preferredLocale": "sv-SE"})))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    // `autoPay` without a profile is valid (the spec says why).
    let auto_pay = server
        .post(
            "/customers",
            with(
                &valid,
                json!({"billing": {"method": "EMAIL_INVOICE", "email": "a@b.co", "autoPay": true}}),
            ),
        )
        .await;
    assert_eq!(auto_pay.status, StatusCode::CREATED, "{auto_pay:?}");
}

#[tokio::test]
async fn billing_updates_follow_the_billing_rules() {
    let server = start();
    let customer = server.customer("Acme").await;
    let path = format!("/customers/{customer}/billing");
    expect_invalid(
        &server,
        Method::PUT,
        &path,
        json!({"method": "EMAIL_INVOICE"}),
        &["/email"],
    )
    .await;
    expect_invalid(
        &server,
        Method::PUT,
        &path,
        json!({"method": "PAPER_INVOICE", "autoPay": true}),
        &["/address"],
    )
    .await;
    expect_invalid(
        &server,
        Method::PUT,
        &path,
        json!({"email": "a@b.co"}),
        &["/method"],
    )
    .await;
    let ok = server
        .put(
            &path,
            json!({"method": "EMAIL_INVOICE", "email": "billing@acme.test", "currency": "SEK"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    assert_eq!(ok.body["billing"]["currency"], "SEK");
}

#[tokio::test]
async fn list_parameters_are_range_checked() {
    let server = start();
    for query in [
        "limit=0",
        "limit=1001",
        "offset=-1",
        "limit=ten",
        "limit=1&limit=2",
        "customerId=nope",
        "customerType=PERSON",
    ] {
        let path = if query.starts_with("customerType") {
            format!("/customers?{query}")
        } else {
            format!("/users?{query}")
        };
        let reply = server.get(&path).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}: {reply:?}");
        let name = query.split('=').next().unwrap();
        assert_eq!(reply.properties(), [format!("query/{name}")], "{path}");
    }
    let too_many: String = (0..101)
        .map(|_| format!("customerId={}&", uuid::Uuid::new_v4()))
        .collect();
    let reply = server.get(&format!("/users?{too_many}")).await;
    assert_eq!(reply.properties(), ["query/customerId"]);
    let key = "k".repeat(257);
    let reply = server
        .send(
            Method::POST,
            "/users",
            Some(ACME),
            &[("X-Idempotency-Key", &key)],
            Some(json!({"name": "A"})),
        )
        .await;
    assert_eq!(reply.properties(), ["header/X-Idempotency-Key"]);
    assert_eq!(server.user_total().await, 0);
}

#[tokio::test]
async fn malformed_bodies_and_wrong_content_types_are_malformed_requests() {
    let server = start();
    for (content_type, body) in [
        ("application/json", "{\"name\":"),
        ("application/json", "not json"),
        ("text/plain", "{\"name\":\"Ada\"}"),
        ("application/json", ""),
    ] {
        let response = server
            .http
            .post(format!("{}/users", server.base))
            .header("X-API-Key", ACME)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{content_type} {body:?}"
        );
        let error: Value = response.json().await.unwrap();
        assert_eq!(
            error["code"], "malformed_request",
            "{content_type} {body:?}: {error}"
        );
    }
    assert_eq!(server.user_total().await, 0);
}

#[tokio::test]
async fn a_body_over_the_limit_is_payload_too_large_and_the_largest_valid_request_fits() {
    let server = start();
    let huge = json!({"name": "A", "identity": "x".repeat(connect_server::REQUEST_BODY_MAX_BYTES)});
    let reply = server.post("/users", huge).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.code(), "payload_too_large");

    // The largest valid createCustomer: every bound at its maximum, in characters that JSON
    // escapes to 6 bytes each.
    let escaped = |n: usize| "\u{1}".repeat(n);
    let metadata: serde_json::Map<String, Value> = (0..50)
        .map(|i| (format!("{i:0>64}"), json!(escaped(512))))
        .collect();
    let address = json!({"street1": escaped(200), "street2": escaped(200), "city": escaped(200), "zip": escaped(200), "country": "SE", "state": escaped(200), "region": escaped(200), "attention": escaped(200)});
    let users: Vec<String> = futures::future::join_all((0..100).map(|i| {
        let server = &server;
        async move { server.user(&format!("u{i}")).await }
    }))
    .await;
    let body = json!({
        "customerType": "BUSINESS", "name": escaped(200), "identity": escaped(64), "referenceId": escaped(255),
        "preferredLocale": "sv-SE", "contact": {"email": "a@b.co", "msisdn": "+46701234567"},
        "billing": {"method": "PAPER_INVOICE", "address": address, "email": "a@b.co", "currency": "SEK", "autoPay": true, "defaultPaymentProfileId": escaped(64)},
        "shipping": {"name": escaped(200), "msisdn": "+46701234567", "address": address, "instructions": escaped(1000)},
        "userIds": users, "contactPersonUserId": users[0], "metadata": metadata,
    });
    let size = serde_json::to_vec(&body).unwrap().len();
    assert!(
        size > 160 * 1024 && size < connect_server::REQUEST_BODY_MAX_BYTES,
        "{size} bytes"
    );
    let reply = server.post("/customers", body).await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{:?}",
        reply.body["details"]
    );
}

#[tokio::test]
async fn nothing_malformed_gets_a_server_error() {
    let server = start();
    let user = server.user("Ada").await;
    let customer = server.customer("Acme").await;
    let paths = [
        "/users".to_string(),
        format!("/users/{user}"),
        "/users/rid_".to_string(),
        "/users/%00".to_string(),
        "/tools/verify-user-exists".to_string(),
        "/customers".to_string(),
        format!("/customers/{customer}"),
        format!("/customers/{customer}/billing"),
        format!("/customers/{customer}/users"),
        format!("/customers/{customer}/users?userId=%FF"),
        "/users?limit=99999999999999999999999".to_string(),
        "/users?filter=%E2%82".to_string(),
    ];
    let bodies = [
        "null",
        "[]",
        "\"x\"",
        "{\"name\":null}",
        "{\"name\":[1]}",
        "{\"customerType\":{}}",
        "{\"method\":1}",
        "{\"userId\":\"\"}",
        "{\"metadata\":[]}",
        "{\"email\":null,\"msisdn\":null}",
        "{}",
        "{\"name\":\"\\ud800\"}",
    ];
    for path in &paths {
        for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
            for body in bodies {
                let response = server
                    .http
                    .request(method.clone(), format!("{}{path}", server.base))
                    .header("X-API-Key", ACME)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert!(
                    response.status().as_u16() < 500,
                    "{method} {path} {body}: {}",
                    response.status()
                );
            }
        }
    }
    // And the server is still up, with what it had.
    assert_eq!(server.user_total().await, 1);
}

#[tokio::test]
async fn a_body_with_thousands_of_problems_is_answered_only_to_its_tenant_with_the_first_hundred() {
    let server = start();
    let ids: Vec<String> = (0..30_000).map(|i| format!("x{i}")).collect();
    let body = json!({"name": "Acme", "customerType": "BUSINESS", "userIds": ids, "bogus1": 1, "bogus2": 2});
    // Without a key, nothing is said about the body.
    let anonymous = server
        .send(Method::POST, "/customers", None, &[], Some(body.clone()))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let reply = server.post("/customers", body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.properties().len(), spec_runtime::MAX_DETAILS);
    assert!(
        reply.body["message"].as_str().unwrap().contains("or more"),
        "{}",
        reply.body["message"]
    );
    // Every unknown property is named, not just the first.
    let unknown = server
        .post("/users", json!({"name": "A", "x": 1, "y": 2}))
        .await;
    assert_eq!(unknown.properties(), ["/x", "/y"]);
}
