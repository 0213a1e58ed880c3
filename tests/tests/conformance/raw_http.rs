//! What the typed client cannot send, sent with plain reqwest through the same recording proxy:
//! every answer is a 4xx with the spec's `Error` body (the proxy checks the body and that the
//! status is documented; a 500 fails the test), and nothing changes.
//!
//! Router-level answers for paths or methods the spec does not have are dropshot's own (404 or
//! 405, with dropshot's body): they name no operation, so the proxy exempts them; the test here
//! asserts their status directly.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;

/// Every operation that takes a body, with a valid body for it.
struct Target {
    method: Method,
    path: String,
    body: Value,
}

struct World {
    user: uuid::Uuid,
    customer: uuid::Uuid,
}

impl World {
    async fn new(h: &Harness) -> Self {
        let acme = h.client(Acme);
        let world = Self {
            user: user(&acme, "Ada").await.user_id,
            customer: customer(&acme, "C").await.customer_id,
        };
        user(&h.client(Globex), "Globex user").await;
        world
    }

    fn targets(&self) -> Vec<Target> {
        let (u, c) = (self.user, self.customer);
        vec![
            Target {
                method: Method::POST,
                path: "/users".into(),
                body: json!({"name": "x"}),
            },
            Target {
                method: Method::PUT,
                path: format!("/users/{u}"),
                body: json!({"name": "x"}),
            },
            Target {
                method: Method::POST,
                path: "/tools/verify-user-exists".into(),
                body: json!({"email": "a@example.com"}),
            },
            Target {
                method: Method::POST,
                path: "/customers".into(),
                body: json!({"customerType": "CONSUMER", "name": "x"}),
            },
            Target {
                method: Method::PUT,
                path: format!("/customers/{c}"),
                body: json!({"name": "x"}),
            },
            Target {
                method: Method::PUT,
                path: format!("/customers/{c}/billing"),
                body: json!({"method": "EMAIL_INVOICE", "email": "a@example.com"}),
            },
            Target {
                method: Method::POST,
                path: format!("/customers/{c}/users"),
                body: json!({"userId": u}),
            },
        ]
    }

    /// Everything both tenants can see.
    async fn snapshot(&self, h: &Harness) -> Value {
        let mut all = Vec::new();
        for tenant in [Acme, Globex] {
            let client = h.client(tenant);
            let users = expect_ok(client.list_users().limit(1000u64).send().await, 200);
            let customers = expect_ok(client.list_customers().limit(1000u64).send().await, 200);
            all.push(json!([
                json(&users.into_inner()),
                json(&customers.into_inner())
            ]));
        }
        Value::Array(all)
    }
}

/// Sends, and asserts a 4xx with `code` (and a detail naming `property`, when given).
async fn expect(request: reqwest::RequestBuilder, status: u16, code: &str, property: Option<&str>) {
    let described = format!("{request:?}");
    let (actual, body) = read(request.send().await.expect("an answer")).await;
    assert_eq!(
        (actual, body["code"].as_str()),
        (status, Some(code)),
        "{described}: {body}"
    );
    if let Some(property) = property {
        let named = body["details"].as_array().into_iter().flatten().any(|d| {
            d["property"]
                .as_str()
                .is_some_and(|p| p.eq_ignore_ascii_case(property))
        });
        assert!(named, "{described}: no detail for {property}: {body}");
    }
}

#[tokio::test]
async fn bodies_that_are_not_json_or_not_declared_json_are_400_malformed_request() {
    let h = Harness::start().await;
    let world = World::new(&h).await;
    let before = world.snapshot(&h).await;
    for target in world.targets() {
        let raw = |content_type: Option<&str>, body: Vec<u8>| {
            let request = h.raw(Acme, target.method.clone(), &target.path).body(body);
            match content_type {
                Some(content_type) => request.header("content-type", content_type),
                None => request,
            }
        };
        let valid = serde_json::to_vec(&target.body).unwrap();
        for (content_type, body) in [
            (Some("application/json"), b"{\"name\": ".to_vec()),
            (Some("application/json"), b"".to_vec()),
            (Some("application/json"), vec![b'"', 0xff, 0xfe, b'"']),
            (Some("text/plain"), valid.clone()),
            (
                Some("application/x-www-form-urlencoded"),
                b"name=x".to_vec(),
            ),
            (None, valid.clone()),
        ] {
            expect(raw(content_type, body), 400, "malformed_request", None).await;
        }
        // Without a key it is a 401 first: authentication comes before reading the body.
        expect(
            h.http()
                .request(target.method.clone(), h.url(&target.path))
                .header("content-type", "application/json")
                .body("{"),
            401,
            "unauthorized",
            None,
        )
        .await;
    }
    assert_eq!(world.snapshot(&h).await, before);
    h.finish().await;
}

#[tokio::test]
async fn a_body_over_256_kib_is_413_for_every_operation_with_a_body() {
    let h = Harness::start().await;
    let world = World::new(&h).await;
    let before = world.snapshot(&h).await;
    for target in world.targets() {
        // Valid JSON, merely too large: a long unknown property.
        let mut body = target.body.clone();
        body["padding"] = json!("p".repeat(connect_server::REQUEST_BODY_MAX_BYTES));
        expect(
            h.raw(Acme, target.method.clone(), &target.path).json(&body),
            413,
            "payload_too_large",
            None,
        )
        .await;
    }
    assert_eq!(world.snapshot(&h).await, before);
    h.finish().await;
}

#[tokio::test]
async fn wrong_json_types_and_unknown_fields_are_400_naming_the_property() {
    let h = Harness::start().await;
    let world = World::new(&h).await;
    let before = world.snapshot(&h).await;
    for target in world.targets() {
        let send = |body: Value| h.raw(Acme, target.method.clone(), &target.path).json(&body);
        // Every property of the valid body, with a value of the wrong type.
        for (name, value) in target.body.as_object().unwrap() {
            let mut body = target.body.clone();
            body[name] = if value.is_string() {
                json!(42)
            } else {
                json!("42")
            };
            expect(
                send(body),
                400,
                "validation_error",
                Some(&format!("/{name}")),
            )
            .await;
        }
        // Request bodies are closed (`additionalProperties: false`), except `Billing`, which
        // like every nested object of the spec takes properties it does not name.
        if !target.path.ends_with("/billing") {
            let mut body = target.body.clone();
            body["unexpected"] = json!(true);
            expect(send(body), 400, "validation_error", Some("/unexpected")).await;
        }
        for not_an_object in [json!(null), json!([]), json!("x"), json!(42)] {
            expect(send(not_an_object), 400, "validation_error", None).await;
        }
    }
    assert_eq!(world.snapshot(&h).await, before);
    h.finish().await;
}

#[tokio::test]
async fn idempotency_keys_outside_1_to_256_characters_are_400() {
    let h = Harness::start().await;
    let world = World::new(&h).await;
    let before = world.snapshot(&h).await;
    let mut targets: Vec<(Method, String, Option<Value>)> = world
        .targets()
        .into_iter()
        .filter(|t| t.path != "/tools/verify-user-exists")
        .map(|t| (t.method, t.path, Some(t.body)))
        .collect();
    targets.push((
        Method::DELETE,
        format!(
            "/customers/{}/users?userId={}",
            world.customer,
            uuid::Uuid::new_v4()
        ),
        None,
    ));
    assert_eq!(targets.len(), 7, "every mutating operation");
    for (method, path, body) in &targets {
        for key in ["k".repeat(257), String::new()] {
            let mut request = h
                .raw(Acme, method.clone(), path)
                .header("x-idempotency-key", key);
            if let Some(body) = body {
                request = request.json(body);
            }
            expect(
                request,
                400,
                "validation_error",
                Some("header/X-Idempotency-Key"),
            )
            .await;
        }
    }
    assert_eq!(world.snapshot(&h).await, before);
    // 256 characters is a key like any other.
    let (status, _) = read(
        h.raw(Acme, Method::POST, "/users")
            .header("x-idempotency-key", "k".repeat(256))
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    h.finish().await;
}

#[tokio::test]
async fn query_parameters_out_of_range_repeated_or_malformed_are_400_naming_them() {
    let h = Harness::start().await;
    let world = World::new(&h).await;
    let before = world.snapshot(&h).await;
    let get = |path_and_query: &str| h.raw(Acme, Method::GET, path_and_query);
    let c = world.customer;
    let many: String = (0..101)
        .map(|_| format!("customerId={}", uuid::Uuid::new_v4()))
        .collect::<Vec<_>>()
        .join("&");
    let long_filter = "f".repeat(257);
    for list in ["/users", "/customers"] {
        for (query, property) in [
            ("limit=0", "query/limit"),
            ("limit=1001", "query/limit"),
            ("limit=-1", "query/limit"),
            ("limit=abc", "query/limit"),
            ("limit=1.5", "query/limit"),
            ("limit=", "query/limit"),
            ("limit=1&limit=2", "query/limit"),
            ("offset=-1", "query/offset"),
            ("offset=x", "query/offset"),
            ("offset=0&offset=0", "query/offset"),
            ("filter=a&filter=b", "query/filter"),
            (&format!("filter={long_filter}"), "query/filter"),
        ] {
            expect(
                get(&format!("{list}?{query}")),
                400,
                "validation_error",
                Some(property),
            )
            .await;
        }
    }
    for (query, property) in [
        ("customerId=not-a-uuid", "query/customerId"),
        (many.as_str(), "query/customerId"),
    ] {
        expect(
            get(&format!("/users?{query}")),
            400,
            "validation_error",
            Some(property),
        )
        .await;
    }
    for query in [
        "customerType=NOPE",
        "customerType=consumer",
        "customerType=A&customerType=B",
    ] {
        expect(
            get(&format!("/customers?{query}")),
            400,
            "validation_error",
            Some("query/customerType"),
        )
        .await;
    }
    let unlink = |query: &str| {
        h.raw(
            Acme,
            Method::DELETE,
            &format!("/customers/{c}/users{query}"),
        )
    };
    for query in [
        "",
        "?userId=not-a-uuid",
        &format!("?userId={0}&userId={0}", world.user),
    ] {
        expect(unlink(query), 400, "validation_error", Some("query/userId")).await;
    }
    // Repeating `customerId` is how the spec asks for several; the bounds themselves are fine.
    for ok in [
        format!("/users?customerId={c}&customerId={}", uuid::Uuid::new_v4()),
        "/users?limit=1&offset=0".into(),
        "/users?limit=1000&offset=1000000".into(),
        format!("/users?filter={}", "f".repeat(256)),
        "/customers?customerType=BUSINESS&limit=1000".into(),
    ] {
        let (status, body) = read(get(&ok).send().await.unwrap()).await;
        assert_eq!(status, 200, "{ok}: {body}");
    }
    assert_eq!(world.snapshot(&h).await, before);
    h.finish().await;
}

#[tokio::test]
async fn query_parameters_are_checked_after_authentication() {
    let h = Harness::start().await;
    for path in [
        "/users?limit=0",
        "/customers?offset=-1",
        "/users?customerId=x",
    ] {
        expect(h.http().get(h.url(path)), 401, "unauthorized", None).await;
    }
    h.finish().await;
}

#[tokio::test]
async fn an_offset_beyond_int64_is_400() {
    let h = Harness::start().await;
    for list in ["/users", "/customers"] {
        for offset in ["9223372036854775808", "18446744073709551615"] {
            let path = format!("{list}?offset={offset}");
            let (status, body) = read(h.raw(Acme, Method::GET, &path).send().await.unwrap()).await;
            conforms(
                Bug::OffsetBeyondInt64Accepted,
                status == 400 && body["code"] == "validation_error",
                &format!("{path}: expected 400 validation_error, got {status} {body}"),
            );
        }
        // The largest int64 is a valid offset, echoed as given.
        let path = format!("{list}?offset=9223372036854775807");
        let (status, body) = read(h.raw(Acme, Method::GET, &path).send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(body["pagination"]["offset"], json!(i64::MAX));
    }
    h.finish().await;
}

#[tokio::test]
async fn paths_and_methods_outside_the_spec_get_the_router_answer() {
    let h = Harness::start().await;
    let world = World::new(&h).await;
    let before = world.snapshot(&h).await;
    for (method, path, status) in [
        (Method::GET, "/nowhere".to_string(), 404),
        (Method::GET, format!("/users/{}/customers", world.user), 404),
        (Method::DELETE, format!("/users/{}", world.user), 405),
        (
            Method::DELETE,
            format!("/customers/{}", world.customer),
            405,
        ),
        (Method::PATCH, "/users".to_string(), 405),
    ] {
        let response = h.raw(Acme, method.clone(), &path).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
    }
    assert_eq!(world.snapshot(&h).await, before);
    h.finish().await;
}

#[tokio::test]
async fn a_path_that_is_not_utf_8_gets_the_spec_error_body() {
    let h = Harness::start().await;
    for path in ["/users/%FF", "/customers/%FF", "/customers/%FF/billing"] {
        let method = if path.ends_with("billing") {
            Method::PUT
        } else {
            Method::GET
        };
        let (status, body) = read(
            h.raw(Acme, method, path)
                .json(&json!({"method": "EMAIL_INVOICE", "email": "a@example.com"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 400, "{path}: {body}");
        conforms(
            Bug::PathDecodingBody,
            body["code"].as_str().is_some(),
            &format!("{path}: expected the spec's Error body, got {body}"),
        );
    }
    h.finish_with_known(Bug::PathDecodingBody, |violation| violation.contains("%FF"))
        .await;
}
