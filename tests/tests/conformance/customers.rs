//! Customers: create, get, update, billing, list; the billing rules, referential checks, auth
//! and tenancy.

use chrono::Duration;
use connect_client::types;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;
use crate::users::oversized_metadata;

fn address() -> Value {
    json!({
        "street1": "12 St James's Square",
        "street2": "Floor 2",
        "city": "London",
        "zip": "SW1Y 4JH",
        "country": "GB",
        "state": "Greater London",
        "region": "South East",
        "attention": "Accounts payable"
    })
}

fn every_field(user_ids: &[uuid::Uuid], contact_person: uuid::Uuid) -> Value {
    json!({
        "customerType": "BUSINESS",
        "name": "Analytical Engines Ltd",
        "contact": {"email": "billing@analytical.example.com", "msisdn": "+15551234568"},
        "billing": {
            "method": "PAPER_INVOICE",
            "email": "invoices@analytical.example.com",
            "address": address(),
            "currency": "GBP",
            "defaultPaymentProfileId": "pp_7f3k2m",
            "autoPay": true
        },
        "userIds": user_ids,
        "contactPersonUserId": contact_person,
        "identity": "556677-8899",
        "preferredLocale": "en-GB",
        "referenceId": "crm-customer-42",
        "shipping": {
            "name": "Ada Lovelace",
            "msisdn": "+15551234567",
            "address": address(),
            "instructions": "Leave at reception."
        },
        "metadata": {"region": "north"}
    })
}

fn create(
    client: &connect_client::Client,
    body: Value,
) -> connect_client::builder::CreateCustomer<'_> {
    client
        .create_customer()
        .body(typed::<types::CreateCustomerRequest>(body))
}

#[tokio::test]
async fn a_customer_with_every_field_is_created_linked_and_reads_back_the_same() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let (ada, grace) = (user(&acme, "Ada").await, user(&acme, "Grace").await);
    let request = every_field(&[ada.user_id], grace.user_id);
    let created = expect_ok(create(&acme, request.clone()).send().await, 201);
    assert!(!replayed(&created));
    let customer = created.into_inner();
    let body = json(&customer);
    for field in [
        "customerType",
        "name",
        "contact",
        "billing",
        "contactPersonUserId",
        "identity",
        "preferredLocale",
        "referenceId",
        "shipping",
        "metadata",
    ] {
        assert_eq!(body[field], request[field], "{field}");
    }
    assert_eq!(customer.customer_id.get_version_num(), 4);
    assert_eq!(customer.created_at, customer.updated_at);
    // Listed users with MEMBER, the contact person linked too.
    assert_eq!(
        body["users"],
        json!([
            {"userId": ada.user_id, "name": "Ada", "role": "MEMBER"},
            {"userId": grace.user_id, "name": "Grace", "role": "MEMBER"}
        ])
    );
    assert_eq!(
        body["contactPerson"],
        json!({"userId": grace.user_id, "name": "Grace", "role": "MEMBER"})
    );
    // The links show on the users at once.
    for user in [&ada, &grace] {
        let user = get_user(&acme, user.user_id).await;
        assert_eq!(user.customer_ids, vec![customer.customer_id]);
        assert_eq!(
            json(&user.customers),
            json!([{"customerId": customer.customer_id, "name": "Analytical Engines Ltd"}])
        );
    }
    assert_eq!(json(&get_customer(&acme, customer.customer_id).await), body);
    h.finish().await;
}

#[tokio::test]
async fn a_customer_with_only_required_fields_has_server_assigned_ones_and_nothing_else() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let customer = customer(&acme, "Grace Hopper").await;
    let body = json(&get_customer(&acme, customer.customer_id).await);
    for absent in [
        "contact",
        "billing",
        "contactPersonUserId",
        "contactPerson",
        "identity",
        "preferredLocale",
        "referenceId",
        "shipping",
    ] {
        assert!(body.get(absent).is_none(), "{absent} in {body}");
    }
    assert_eq!(body["users"], json!([]));
    assert_eq!(body["metadata"], json!({}));
    assert_eq!(body["customerType"], "CONSUMER");
    h.finish().await;
}

#[tokio::test]
async fn a_contact_person_already_listed_is_linked_once() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let ada = user(&acme, "Ada").await;
    let customer = expect_ok(
        create(
            &acme,
            json!({"customerType": "CONSUMER", "name": "C", "userIds": [ada.user_id],
                   "contactPersonUserId": ada.user_id}),
        )
        .send()
        .await,
        201,
    )
    .into_inner();
    assert_eq!(customer.users.len(), 1);
    assert_eq!(get_user(&acme, ada.user_id).await.customer_ids.len(), 1);
    h.finish().await;
}

/// `Billing` is one of two shapes by `method`; a body of neither is a 400 naming what the
/// shape it names lacks, wherever billing is taken. (The typed client cannot build such a body:
/// they go raw.) `autoPay: true` without a profile is a valid shape, as the spec says.
#[tokio::test]
async fn billing_is_one_of_its_shapes_everywhere_billing_is_taken() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let existing = customer(&acme, "Existing").await;
    let id = existing.customer_id;
    let cases = [
        (json!({"method": "EMAIL_INVOICE"}), "/email"),
        (
            json!({"method": "PAPER_INVOICE", "email": "a@example.com"}),
            "/address",
        ),
        (json!({"email": "a@example.com"}), "/method"),
        (json!({"method": "CARRIER_PIGEON"}), "/method"),
    ];
    for (billing, pointer) in cases {
        let requests = [
            (
                h.raw(Acme, Method::POST, "/customers")
                    .json(&json!({"customerType": "CONSUMER", "name": "C", "billing": billing})),
                format!("/billing{pointer}"),
            ),
            (
                h.raw(Acme, Method::PUT, &format!("/customers/{id}"))
                    .json(&json!({"billing": billing})),
                format!("/billing{pointer}"),
            ),
            (
                h.raw(Acme, Method::PUT, &format!("/customers/{id}/billing"))
                    .json(&billing),
                pointer.to_string(),
            ),
        ];
        for (request, property) in requests {
            let (status, body) = read(request.send().await.expect("an answer")).await;
            assert_eq!(status, 400, "{billing}: {body}");
            assert_eq!(body["code"], "validation_error", "{body}");
            let named: Vec<&str> = body["details"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|d| d["property"].as_str())
                .collect();
            assert_eq!(named, [property.as_str()], "{billing}: {body}");
        }
    }
    assert_eq!(customer_total(&acme).await, 1);
    assert_eq!(json(&get_customer(&acme, id).await), json(&existing));
    let auto_pay = json!({"method": "EMAIL_INVOICE", "email": "a@example.com", "autoPay": true});
    let updated = expect_ok(
        acme.update_customer_billing()
            .customer_id(id.to_string())
            .body(typed::<types::Billing>(auto_pay.clone()))
            .send()
            .await,
        200,
    )
    .into_inner();
    assert_eq!(json(&updated)["billing"], auto_pay);
    h.finish().await;
}

#[tokio::test]
async fn user_ids_must_name_users_of_the_tenant() {
    let h = Harness::start().await;
    let (acme, globex) = (h.client(Acme), h.client(Globex));
    let ours = user(&acme, "Ours").await.user_id;
    let theirs = user(&globex, "Theirs").await.user_id;
    let nobody = uuid::Uuid::new_v4();
    for (body, property) in [
        (json!({"userIds": [ours, nobody]}), "/userIds/1"),
        (json!({"userIds": [theirs]}), "/userIds/0"),
        (
            json!({"contactPersonUserId": nobody}),
            "/contactPersonUserId",
        ),
        (
            json!({"contactPersonUserId": theirs}),
            "/contactPersonUserId",
        ),
    ] {
        let mut request = json!({"customerType": "BUSINESS", "name": "C"});
        request
            .as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        // The request is valid; the user it names is not there (another tenant's is not).
        let error = expect_error(create(&acme, request).send().await, 404, "not_found");
        assert_names(&error, property);
    }
    assert_eq!(customer_total(&acme).await, 0);
    assert!(get_user(&acme, ours).await.customer_ids.is_empty());
    h.finish().await;
}

#[tokio::test]
async fn a_duplicate_reference_id_is_409_conflict_within_a_tenant_only() {
    let h = Harness::start().await;
    let (acme, globex) = (h.client(Acme), h.client(Globex));
    let body = json!({"customerType": "CONSUMER", "name": "C", "referenceId": "c-1"});
    expect_ok(create(&acme, body.clone()).send().await, 201);
    expect_error(create(&acme, body.clone()).send().await, 409, "conflict");
    expect_ok(create(&globex, body).send().await, 201);
    assert_eq!(customer_total(&acme).await, 1);
    h.finish().await;
}

#[tokio::test]
async fn unknown_and_foreign_customers_are_404_for_every_customer_operation() {
    let h = Harness::start().await;
    let (acme, globex) = (h.client(Acme), h.client(Globex));
    let theirs = customer(&acme, "Acme's").await.customer_id.to_string();
    let their_user = user(&acme, "Acme's user").await.user_id;
    let our_user = user(&globex, "Globex's user").await.user_id;
    for id in [
        theirs.clone(),
        uuid::Uuid::new_v4().to_string(),
        "not-a-uuid".into(),
    ] {
        expect_error(
            globex.get_customer().customer_id(&*id).send().await,
            404,
            "not_found",
        );
        expect_error(
            globex
                .update_customer()
                .customer_id(&*id)
                .body(typed::<types::UpdateCustomerRequest>(json!({"name": "x"})))
                .send()
                .await,
            404,
            "not_found",
        );
        expect_error(
            globex
                .update_customer_billing()
                .customer_id(&*id)
                .body(typed::<types::Billing>(
                    json!({"method": "EMAIL_INVOICE", "email": "a@example.com"}),
                ))
                .send()
                .await,
            404,
            "not_found",
        );
        expect_error(
            globex
                .add_user_to_customer()
                .customer_id(&*id)
                .body(types::AddUserToCustomerRequest::builder().user_id(our_user))
                .send()
                .await,
            404,
            "not_found",
        );
        expect_error(
            globex
                .remove_user_from_customer()
                .customer_id(&*id)
                .user_id(their_user)
                .send()
                .await,
            404,
            "not_found",
        );
    }
    let unchanged = get_customer(&acme, theirs.parse().unwrap()).await;
    assert_eq!(unchanged.name.as_str(), "Acme's");
    assert!(unchanged.users.is_empty());
    h.finish().await;
}

#[tokio::test]
async fn a_customer_id_longer_than_its_max_length_is_400() {
    let h = Harness::start().await;
    let response = h
        .raw(
            Acme,
            reqwest::Method::GET,
            &format!("/customers/{}", "a".repeat(65)),
        )
        .send()
        .await
        .expect("an answer");
    let (status, body) = read(response).await;
    conforms(
        Bug::PathIdTooLongIsNotFound,
        status == 400 && body["code"] == "validation_error",
        &format!("GET /customers/<65 chars>: expected 400 validation_error, got {status} {body}"),
    );
    h.finish().await;
}

#[tokio::test]
async fn every_customer_operation_is_401_without_a_valid_key() {
    let h = Harness::start().await;
    let existing = customer(&h.client(Acme), "C").await.customer_id.to_string();
    let user_id = user(&h.client(Acme), "U").await.user_id;
    for key in [None, Some("key-acme-but-not-quite")] {
        let client = h.client_with_key(key);
        expect_error(client.list_customers().send().await, 401, "unauthorized");
        expect_error(
            create(&client, json!({"customerType": "CONSUMER", "name": "C"}))
                .send()
                .await,
            401,
            "unauthorized",
        );
        expect_error(
            client.get_customer().customer_id(&*existing).send().await,
            401,
            "unauthorized",
        );
        expect_error(
            client
                .update_customer()
                .customer_id(&*existing)
                .body(typed::<types::UpdateCustomerRequest>(json!({"name": "x"})))
                .send()
                .await,
            401,
            "unauthorized",
        );
        expect_error(
            client
                .update_customer_billing()
                .customer_id(&*existing)
                .body(typed::<types::Billing>(
                    json!({"method": "EMAIL_INVOICE", "email": "a@example.com"}),
                ))
                .send()
                .await,
            401,
            "unauthorized",
        );
        expect_error(
            client
                .add_user_to_customer()
                .customer_id(&*existing)
                .body(types::AddUserToCustomerRequest::builder().user_id(user_id))
                .send()
                .await,
            401,
            "unauthorized",
        );
        expect_error(
            client
                .remove_user_from_customer()
                .customer_id(&*existing)
                .user_id(user_id)
                .send()
                .await,
            401,
            "unauthorized",
        );
    }
    assert_eq!(customer_total(&h.client(Acme)).await, 1);
    h.finish().await;
}

#[tokio::test]
async fn an_update_replaces_given_nested_objects_whole_and_keeps_the_rest() {
    let (h, clock) = Harness::start_with_manual_clock().await;
    let acme = h.client(Acme);
    let ada = user(&acme, "Ada").await;
    let before = expect_ok(
        create(&acme, every_field(&[], ada.user_id)).send().await,
        201,
    )
    .into_inner();
    clock.advance(Duration::seconds(7));
    let change = json!({
        "name": "Grace B. Hopper",
        "identity": "19061209-5678",
        "preferredLocale": "sv-SE",
        "contact": {"email": "grace@example.com"},
        "billing": {"method": "EMAIL_INVOICE", "email": "grace@example.com"},
        "shipping": {"name": "Grace"},
        "metadata": {"channel": "web"}
    });
    let after = expect_ok(
        acme.update_customer()
            .customer_id(before.customer_id.to_string())
            .body(typed::<types::UpdateCustomerRequest>(change.clone()))
            .send()
            .await,
        200,
    );
    assert!(!replayed(&after));
    let after = json(&after.into_inner());
    for (field, value) in change.as_object().unwrap() {
        // Nested objects are replaced as a whole: no msisdn left in contact, no address in
        // billing or shipping.
        assert_eq!(&after[field], value, "{field}");
    }
    let was = json(&before);
    for kept in [
        "customerId",
        "customerType",
        "humanReadableId",
        "referenceId",
        "users",
        "contactPersonUserId",
        "contactPerson",
        "createdAt",
    ] {
        assert_eq!(after[kept], was[kept], "{kept}");
    }
    assert_eq!(
        after["updatedAt"],
        json(&(before.created_at + Duration::seconds(7)))
    );
    assert_eq!(json(&get_customer(&acme, before.customer_id).await), after);

    // An empty update changes nothing, not even updatedAt.
    clock.advance(Duration::seconds(7));
    let same = expect_ok(
        acme.update_customer()
            .customer_id(before.customer_id.to_string())
            .body(typed::<types::UpdateCustomerRequest>(json!({})))
            .send()
            .await,
        200,
    )
    .into_inner();
    assert_eq!(json(&same), after);
    h.finish().await;
}

#[tokio::test]
async fn billing_is_replaced_as_a_whole() {
    let (h, clock) = Harness::start_with_manual_clock().await;
    let acme = h.client(Acme);
    let before = expect_ok(
        create(&acme, every_field(&[], user(&acme, "Ada").await.user_id))
            .send()
            .await,
        201,
    )
    .into_inner();
    clock.advance(Duration::seconds(3));
    let billing = json!({"method": "EMAIL_INVOICE", "email": "grace.invoices@example.com",
                         "currency": "SEK", "defaultPaymentProfileId": "pp_9x2c4v", "autoPay": true});
    let response = expect_ok(
        acme.update_customer_billing()
            .customer_id(before.customer_id.to_string())
            .body(typed::<types::Billing>(billing.clone()))
            .send()
            .await,
        200,
    );
    assert!(!replayed(&response));
    let after = json(&response.into_inner());
    assert_eq!(after["billing"], billing, "no address left over");
    let mut was = json(&before);
    let mut is = after.clone();
    for body in [&mut was, &mut is] {
        body.as_object_mut().unwrap().remove("billing");
        body.as_object_mut().unwrap().remove("updatedAt");
    }
    assert_eq!(was, is, "only billing and updatedAt change");
    assert_eq!(
        after["updatedAt"],
        json(&(before.created_at + Duration::seconds(3)))
    );
    // Minimal billing: just the method that needs nothing else... PAPER needs an address,
    // EMAIL an email; so the smallest valid billing has two fields.
    let minimal = json!({"method": "PAPER_INVOICE", "address":
                         {"street1": "1 Main St", "city": "Springfield", "zip": "12345", "country": "US"}});
    let after = expect_ok(
        acme.update_customer_billing()
            .customer_id(before.customer_id.to_string())
            .body(typed::<types::Billing>(minimal.clone()))
            .send()
            .await,
        200,
    )
    .into_inner();
    assert_eq!(without_nulls(&json(&after.billing)), minimal);
    h.finish().await;
}

#[tokio::test]
async fn bodies_over_256_kib_are_413_and_change_nothing() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let existing = customer(&acme, "C").await;
    expect_error(
        create(
            &acme,
            json!({"customerType": "CONSUMER", "name": "Big", "metadata": oversized_metadata()}),
        )
        .send()
        .await,
        413,
        "payload_too_large",
    );
    expect_error(
        acme.update_customer()
            .customer_id(existing.customer_id.to_string())
            .body(typed::<types::UpdateCustomerRequest>(
                json!({"metadata": oversized_metadata()}),
            ))
            .send()
            .await,
        413,
        "payload_too_large",
    );
    assert_eq!(customer_total(&acme).await, 1);
    assert_eq!(
        json(&get_customer(&acme, existing.customer_id).await),
        json(&existing)
    );
    h.finish().await;
}

#[tokio::test]
async fn list_filters_by_text_and_type_within_the_tenant() {
    let h = Harness::start().await;
    let (acme, globex) = (h.client(Acme), h.client(Globex));
    let engines = expect_ok(
        create(
            &acme,
            json!({"customerType": "BUSINESS", "name": "Analytical Engines",
                   "contact": {"email": "billing@ENGINES.example"}}),
        )
        .send()
        .await,
        201,
    )
    .into_inner();
    let grace = expect_ok(
        create(
            &acme,
            json!({"customerType": "CONSUMER", "name": "Grace Hopper"}),
        )
        .send()
        .await,
        201,
    )
    .into_inner();
    customer(&globex, "Analytical Rivals").await;
    let names = |page: types::CustomerPage| -> Vec<String> {
        page.items.into_iter().map(|c| c.name.to_string()).collect()
    };
    let hrid = grace.human_readable_id.to_lowercase();
    for (filter, customer_type, expected) in [
        (Some("analytical"), None, vec!["Analytical Engines"]),
        (Some("engines.EXAMPLE"), None, vec!["Analytical Engines"]),
        (Some(hrid.as_str()), None, vec!["Grace Hopper"]),
        (
            None,
            Some(types::CustomerType::Business),
            vec!["Analytical Engines"],
        ),
        (
            None,
            Some(types::CustomerType::Consumer),
            vec!["Grace Hopper"],
        ),
        (Some("grace"), Some(types::CustomerType::Business), vec![]),
        (None, None, vec!["Analytical Engines", "Grace Hopper"]),
    ] {
        let mut request = acme.list_customers();
        if let Some(filter) = filter {
            request = request.filter(filter);
        }
        if let Some(customer_type) = customer_type {
            request = request.customer_type(customer_type);
        }
        let page = expect_ok(request.send().await, 200).into_inner();
        assert_eq!(
            page.pagination.total,
            expected.len() as i64,
            "{filter:?} {customer_type:?}"
        );
        assert_eq!(names(page), expected, "{filter:?} {customer_type:?}");
    }
    assert_ne!(engines.human_readable_id, grace.human_readable_id);
    h.finish().await;
}
