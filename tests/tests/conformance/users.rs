//! Users: create, get (by id and by `rid_` reference), update, list; auth and tenancy.

use chrono::Duration;
use connect_client::types;
use serde_json::json;

use crate::common::*;

fn every_field() -> serde_json::Value {
    json!({
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "msisdn": "+15551234567",
        "identity": "19151210-1234",
        "referenceId": "crm-user-1001",
        "metadata": {"segment": "enterprise", "tier": "gold"}
    })
}

#[tokio::test]
async fn a_user_with_every_field_is_created_and_reads_back_the_same_every_way() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let request = every_field();
    let created = expect_ok(
        acme.create_user()
            .body(typed::<types::CreateUserRequest>(request.clone()))
            .send()
            .await,
        201,
    );
    assert!(!replayed(&created), "a first request is not a replay");
    let user = created.into_inner();
    let body = json(&user);
    for field in [
        "name",
        "email",
        "msisdn",
        "identity",
        "referenceId",
        "metadata",
    ] {
        assert_eq!(body[field], request[field], "{field}");
    }
    assert_eq!(user.user_id.get_version_num(), 4, "ids are UUID v4");
    assert!(user.customer_ids.is_empty() && user.customers.is_empty());
    assert_eq!(user.created_at, user.updated_at);

    let by_id = get_user(&acme, user.user_id).await;
    let by_reference = expect_ok(
        acme.get_user().user_id("rid_crm-user-1001").send().await,
        200,
    )
    .into_inner();
    assert_eq!(json(&by_id), body);
    assert_eq!(json(&by_reference), body);

    let page = expect_ok(acme.list_users().send().await, 200).into_inner();
    assert_eq!(page.pagination.total, 1);
    assert_eq!(json(&page.items[0]), body);
    h.finish().await;
}

#[tokio::test]
async fn a_user_with_only_a_name_has_no_optional_fields_and_empty_collections() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let user = user(&acme, "Grace").await;
    let body = json(&get_user(&acme, user.user_id).await);
    for absent in ["email", "msisdn", "identity", "referenceId"] {
        assert!(body.get(absent).is_none(), "{absent} in {body}");
    }
    assert_eq!(body["metadata"], json!({}));
    assert_eq!(body["customerIds"], json!([]));
    assert_eq!(body["customers"], json!([]));
    h.finish().await;
}

/// Metadata keys are any string, as the spec says (OpenAPI 3.0 cannot bound a key's length, so
/// the server does not either): an empty key and a long one are kept as given.
#[tokio::test]
async fn metadata_keys_are_any_string_as_the_spec_says() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let long = "k/~".repeat(100);
    for key in [long.as_str(), ""] {
        let created = expect_ok(
            acme.create_user()
                .body(typed::<types::CreateUserRequest>(
                    json!({"name": "Ada", "metadata": {key: "v"}}),
                ))
                .send()
                .await,
            201,
        )
        .into_inner();
        assert_eq!(json(&created)["metadata"], json!({key: "v"}));
    }
    assert_eq!(user_total(&acme).await, 2);
    h.finish().await;
}

#[tokio::test]
async fn a_duplicate_reference_id_is_409_conflict_within_a_tenant_only() {
    let h = Harness::start().await;
    let (acme, globex) = (h.client(Acme), h.client(Globex));
    let request = || typed::<types::CreateUserRequest>(json!({"name": "A", "referenceId": "r-1"}));
    expect_ok(acme.create_user().body(request()).send().await, 201);
    expect_error(
        acme.create_user().body(request()).send().await,
        409,
        "conflict",
    );
    assert_eq!(user_total(&acme).await, 1);
    // Unique per tenant: another tenant may use it.
    expect_ok(globex.create_user().body(request()).send().await, 201);
    h.finish().await;
}

#[tokio::test]
async fn a_missing_or_unknown_key_is_401_and_says_nothing_about_existence() {
    let h = Harness::start().await;
    let existing = user(&h.client(Acme), "Ada").await.user_id;
    let absent = uuid::Uuid::new_v4();
    for key in [None, Some("wrong-key"), Some("")] {
        let client = h.client_with_key(key);
        let on_existing = expect_error(
            client.get_user().user_id(existing.to_string()).send().await,
            401,
            "unauthorized",
        );
        let on_absent = expect_error(
            client.get_user().user_id(absent.to_string()).send().await,
            401,
            "unauthorized",
        );
        assert_eq!(on_existing.message, on_absent.message);
        expect_error(client.list_users().send().await, 401, "unauthorized");
        expect_error(
            client
                .create_user()
                .body(types::CreateUserRequest::builder().name("x"))
                .send()
                .await,
            401,
            "unauthorized",
        );
        expect_error(
            client
                .update_user()
                .user_id(existing.to_string())
                .body(typed::<types::UpdateUserRequest>(json!({"name": "x"})))
                .send()
                .await,
            401,
            "unauthorized",
        );
    }
    // Authentication comes before validation: an invalid body without a key is still a 401.
    expect_error(
        h.client_with_key(None)
            .create_user()
            .body(typed::<types::CreateUserRequest>(
                json!({"name": "x", "metadata": {"": "v"}}),
            ))
            .send()
            .await,
        401,
        "unauthorized",
    );
    assert_eq!(user_total(&h.client(Acme)).await, 1);
    h.finish().await;
}

#[tokio::test]
async fn unknown_and_foreign_users_are_404_by_id_and_by_reference() {
    let h = Harness::start().await;
    let (acme, globex) = (h.client(Acme), h.client(Globex));
    let theirs = expect_ok(
        acme.create_user()
            .body(typed::<types::CreateUserRequest>(
                json!({"name": "A", "referenceId": "r-1"}),
            ))
            .send()
            .await,
        201,
    )
    .into_inner();
    for id in [
        theirs.user_id.to_string(),
        "rid_r-1".into(),
        uuid::Uuid::new_v4().to_string(),
        "not-a-uuid".into(),
        "rid_".into(),
    ] {
        expect_error(
            globex.get_user().user_id(&*id).send().await,
            404,
            "not_found",
        );
    }
    expect_error(
        globex
            .update_user()
            .user_id(theirs.user_id.to_string())
            .body(typed::<types::UpdateUserRequest>(json!({"name": "stolen"})))
            .send()
            .await,
        404,
        "not_found",
    );
    // updateUser takes the UUID only.
    expect_error(
        acme.update_user()
            .user_id("rid_r-1")
            .body(typed::<types::UpdateUserRequest>(json!({"name": "x"})))
            .send()
            .await,
        404,
        "not_found",
    );
    assert_eq!(get_user(&acme, theirs.user_id).await.name.as_str(), "A");
    assert_eq!(user_total(&globex).await, 0);
    h.finish().await;
}

#[tokio::test]
async fn a_user_id_longer_than_its_max_length_is_400() {
    let h = Harness::start().await;
    let response = h
        .raw(
            Acme,
            reqwest::Method::GET,
            &format!("/users/{}", "a".repeat(301)),
        )
        .send()
        .await
        .expect("an answer");
    let (status, body) = read(response).await;
    conforms(
        Bug::PathIdTooLongIsNotFound,
        status == 400 && body["code"] == "validation_error",
        &format!("GET /users/<301 chars>: expected 400 validation_error, got {status} {body}"),
    );
    h.finish().await;
}

#[tokio::test]
async fn an_update_changes_exactly_the_given_fields_and_the_time_of_change() {
    let (h, clock) = Harness::start_with_manual_clock().await;
    let acme = h.client(Acme);
    let before = expect_ok(
        acme.create_user()
            .body(typed::<types::CreateUserRequest>(every_field()))
            .send()
            .await,
        201,
    )
    .into_inner();
    clock.advance(Duration::seconds(5));

    // Only the email: the rest stays, metadata included.
    let after = expect_ok(
        acme.update_user()
            .user_id(before.user_id.to_string())
            .body(typed::<types::UpdateUserRequest>(
                json!({"email": "ada.l@example.com"}),
            ))
            .send()
            .await,
        200,
    );
    assert!(!replayed(&after));
    let after = after.into_inner();
    assert_eq!(
        after.email.as_deref().map(|e| e.as_str()),
        Some("ada.l@example.com")
    );
    let (mut was, mut is) = (json(&before), json(&after));
    for body in [&mut was, &mut is] {
        body.as_object_mut().unwrap().remove("email");
        body.as_object_mut().unwrap().remove("updatedAt");
    }
    assert_eq!(was, is, "only email and updatedAt change");
    assert_eq!(after.updated_at, before.created_at + Duration::seconds(5));
    assert_eq!(after.created_at, before.created_at);

    // Every field, metadata replaced as a whole.
    clock.advance(Duration::seconds(5));
    let all = json!({
        "name": "Augusta Ada King",
        "email": "countess@example.org",
        "msisdn": "+447700900123",
        "identity": "X-1",
        "referenceId": "crm-user-2002",
        "metadata": {"only": "this"}
    });
    let updated = expect_ok(
        acme.update_user()
            .user_id(before.user_id.to_string())
            .body(typed::<types::UpdateUserRequest>(all.clone()))
            .send()
            .await,
        200,
    )
    .into_inner();
    let body = json(&get_user(&acme, before.user_id).await);
    for field in [
        "name",
        "email",
        "msisdn",
        "identity",
        "referenceId",
        "metadata",
    ] {
        assert_eq!(body[field], all[field], "{field}");
    }
    assert_eq!(json(&updated), body);
    // The old reference is free again, the new one finds the user.
    expect_error(
        acme.get_user().user_id("rid_crm-user-1001").send().await,
        404,
        "not_found",
    );
    expect_ok(
        acme.get_user().user_id("rid_crm-user-2002").send().await,
        200,
    );

    // An empty update changes nothing, not even updatedAt.
    clock.advance(Duration::seconds(5));
    let same = expect_ok(
        acme.update_user()
            .user_id(before.user_id.to_string())
            .body(types::UpdateUserRequest::builder())
            .send()
            .await,
        200,
    )
    .into_inner();
    assert_eq!(json(&same), body);
    h.finish().await;
}

#[tokio::test]
async fn update_errors_400_404_409() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let create = |reference: &str| {
        typed::<types::CreateUserRequest>(json!({"name": "A", "referenceId": reference}))
    };
    let a = expect_ok(acme.create_user().body(create("a")).send().await, 201).into_inner();
    expect_ok(acme.create_user().body(create("b")).send().await, 201);
    let update = |body: serde_json::Value| {
        acme.update_user()
            .user_id(a.user_id.to_string())
            .body(typed::<types::UpdateUserRequest>(body))
    };
    // Someone else's reference: 409; one's own: fine.
    expect_error(
        update(json!({"referenceId": "b"})).send().await,
        409,
        "conflict",
    );
    expect_ok(update(json!({"referenceId": "a"})).send().await, 200);
    let error = expect_error(
        update(json!({"email": "not-an-email"})).send().await,
        400,
        "validation_error",
    );
    assert_names(&error, "/email");
    expect_error(
        acme.update_user()
            .user_id(uuid::Uuid::new_v4().to_string())
            .body(typed::<types::UpdateUserRequest>(json!({"name": "x"})))
            .send()
            .await,
        404,
        "not_found",
    );
    let unchanged = get_user(&acme, a.user_id).await;
    assert_eq!(json(&unchanged), json(&a));
    h.finish().await;
}

/// A body over the server's 256 KiB limit that the typed client can still build: metadata keys
/// are unbounded strings in the client's types (the 64-character bound is a server rule).
pub fn oversized_metadata() -> serde_json::Value {
    json!({ "k".repeat(300 * 1024): "v" })
}

#[tokio::test]
async fn a_body_over_256_kib_is_413_payload_too_large_and_stores_nothing() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let existing = user(&acme, "Ada").await;
    expect_error(
        acme.create_user()
            .body(typed::<types::CreateUserRequest>(
                json!({"name": "Big", "metadata": oversized_metadata()}),
            ))
            .send()
            .await,
        413,
        "payload_too_large",
    );
    expect_error(
        acme.update_user()
            .user_id(existing.user_id.to_string())
            .body(typed::<types::UpdateUserRequest>(
                json!({"metadata": oversized_metadata()}),
            ))
            .send()
            .await,
        413,
        "payload_too_large",
    );
    assert_eq!(user_total(&acme).await, 1);
    assert_eq!(
        json(&get_user(&acme, existing.user_id).await),
        json(&existing)
    );
    h.finish().await;
}

#[tokio::test]
async fn list_filter_matches_name_and_email_case_insensitively_within_the_tenant() {
    let h = Harness::start().await;
    let (acme, globex) = (h.client(Acme), h.client(Globex));
    for body in [
        json!({"name": "Ada Lovelace", "email": "ada@example.com"}),
        json!({"name": "Grace Hopper", "email": "grace@NAVY.example"}),
        json!({"name": "Alan Turing"}),
    ] {
        expect_ok(
            acme.create_user()
                .body(typed::<types::CreateUserRequest>(body))
                .send()
                .await,
            201,
        );
    }
    user(&globex, "Ada Byron").await;
    let names = |page: types::UserPage| -> Vec<String> {
        page.items.into_iter().map(|u| u.name.to_string()).collect()
    };
    for (filter, expected) in [
        ("ADA", vec!["Ada Lovelace"]),
        ("navy", vec!["Grace Hopper"]),
        ("example", vec!["Ada Lovelace", "Grace Hopper"]),
        ("a", vec!["Ada Lovelace", "Grace Hopper", "Alan Turing"]),
        ("nobody", vec![]),
    ] {
        let page = expect_ok(acme.list_users().filter(filter).send().await, 200).into_inner();
        assert_eq!(page.pagination.total, expected.len() as i64, "{filter}");
        assert_eq!(names(page), expected, "{filter}");
    }
    h.finish().await;
}

#[tokio::test]
async fn any_reference_id_finds_its_user_through_the_client() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    for reference in [
        "plain",
        "with space",
        "a/b",
        "50%",
        "q?x=1#f",
        "ünï©ødé",
        "a\\b",
    ] {
        let created = expect_ok(
            acme.create_user()
                .body(typed::<types::CreateUserRequest>(
                    json!({"name": "R", "referenceId": reference}),
                ))
                .send()
                .await,
            201,
        )
        .into_inner();
        let found = acme
            .get_user()
            .user_id(format!("rid_{reference}"))
            .send()
            .await;
        let ok = found.is_ok_and(|f| f.into_inner().user_id == created.user_id);
        if reference.contains('\\') {
            conforms(Bug::ClientPathBackslash, ok, &format!("rid_{reference}"));
        } else {
            assert!(ok, "rid_{reference}");
        }
    }
    h.finish().await;
}

#[tokio::test]
async fn concurrent_creates_with_one_reference_id_create_exactly_one() {
    let h = Harness::start().await;
    let clients: Vec<connect_client::Client> = (0..8).map(|_| h.client(Acme)).collect();
    let results = futures::future::join_all(clients.iter().map(|client| {
        client
            .create_user()
            .body(typed::<types::CreateUserRequest>(
                json!({"name": "Race", "referenceId": "race"}),
            ))
            .send()
    }))
    .await;
    let mut created = 0;
    for result in results {
        match result {
            Ok(response) if response.status() == 201 => created += 1,
            other => {
                expect_error(other, 409, "conflict");
            }
        }
    }
    assert_eq!(created, 1);
    assert_eq!(user_total(&clients[0]).await, 1);
    // A reference that is given up is free again.
    let holder =
        expect_ok(clients[0].get_user().user_id("rid_race").send().await, 200).into_inner();
    expect_ok(
        clients[0]
            .update_user()
            .user_id(holder.user_id.to_string())
            .body(typed::<types::UpdateUserRequest>(
                json!({"referenceId": "won"}),
            ))
            .send()
            .await,
        200,
    );
    expect_ok(
        clients[0]
            .create_user()
            .body(typed::<types::CreateUserRequest>(
                json!({"name": "Next", "referenceId": "race"}),
            ))
            .send()
            .await,
        201,
    );
    h.finish().await;
}
