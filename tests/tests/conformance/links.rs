//! The user/customer link: one fact seen from two sides.

use connect_client::types;
use serde_json::json;
use uuid::Uuid;

use crate::common::*;

/// Both sides of the link between `customer` and `user` agree, and say `linked`.
async fn assert_link(client: &connect_client::Client, customer: Uuid, user: Uuid, linked: bool) {
    let c = get_customer(client, customer).await;
    let u = get_user(client, user).await;
    let on_customer = c.users.iter().find(|cu| cu.user_id == user);
    let on_user = u.customer_ids.contains(&customer);
    let ref_on_user = u.customers.iter().find(|r| r.customer_id == customer);
    assert_eq!(on_customer.is_some(), linked, "Customer.users: {c:?}");
    assert_eq!(on_user, linked, "User.customerIds: {u:?}");
    assert_eq!(ref_on_user.is_some(), linked, "User.customers: {u:?}");
    if linked {
        assert_eq!(on_customer.unwrap().name.as_str(), u.name.as_str());
        assert_eq!(ref_on_user.unwrap().name.as_str(), c.name.as_str());
    }
    assert_eq!(u.customer_ids.len(), u.customers.len());
}

#[tokio::test]
async fn linking_shows_on_both_sides_at_once_with_the_default_role() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let (c, u) = (customer(&acme, "C").await, user(&acme, "U").await);
    let response = expect_ok(
        acme.add_user_to_customer()
            .customer_id(c.customer_id.to_string())
            .body(types::AddUserToCustomerRequest::builder().user_id(u.user_id))
            .send()
            .await,
        201,
    );
    assert!(!replayed(&response));
    assert_eq!(
        json(&response.into_inner()),
        json!({"userId": u.user_id, "name": "U", "role": "MEMBER"})
    );
    assert_link(&acme, c.customer_id, u.user_id, true).await;
    h.finish().await;
}

#[tokio::test]
async fn every_role_can_be_given_and_reads_back() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let c = customer(&acme, "C").await;
    for role in [
        types::CustomerUserRole::Member,
        types::CustomerUserRole::Manager,
        types::CustomerUserRole::Admin,
    ] {
        let u = user(&acme, &format!("{role}")).await;
        let link = expect_ok(
            acme.add_user_to_customer()
                .customer_id(c.customer_id.to_string())
                .body(
                    types::AddUserToCustomerRequest::builder()
                        .user_id(u.user_id)
                        .role(Some(role)),
                )
                .send()
                .await,
            201,
        )
        .into_inner();
        assert_eq!(link.role, Some(role));
        let on_customer = get_customer(&acme, c.customer_id).await;
        let listed = on_customer
            .users
            .iter()
            .find(|x| x.user_id == u.user_id)
            .unwrap();
        assert_eq!(listed.role, Some(role));
    }
    h.finish().await;
}

#[tokio::test]
async fn linking_twice_is_409_conflict_and_keeps_one_link() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let (c, u) = (customer(&acme, "C").await, user(&acme, "U").await);
    link(&acme, c.customer_id, u.user_id).await;
    expect_error(
        acme.add_user_to_customer()
            .customer_id(c.customer_id.to_string())
            .body(
                types::AddUserToCustomerRequest::builder()
                    .user_id(u.user_id)
                    .role(Some(types::CustomerUserRole::Admin)),
            )
            .send()
            .await,
        409,
        "conflict",
    );
    let c = get_customer(&acme, c.customer_id).await;
    assert_eq!(c.users.len(), 1);
    assert_eq!(c.users[0].role, Some(types::CustomerUserRole::Member));
    assert_eq!(get_user(&acme, u.user_id).await.customer_ids.len(), 1);
    h.finish().await;
}

#[tokio::test]
async fn linking_a_user_outside_the_tenant_is_404_naming_user_id() {
    let h = Harness::start().await;
    let (acme, globex) = (h.client(Acme), h.client(Globex));
    let c = customer(&acme, "C").await;
    let foreign = user(&globex, "Theirs").await.user_id;
    for user_id in [foreign, Uuid::new_v4()] {
        let error = expect_error(
            acme.add_user_to_customer()
                .customer_id(c.customer_id.to_string())
                .body(types::AddUserToCustomerRequest::builder().user_id(user_id))
                .send()
                .await,
            404,
            "not_found",
        );
        assert_names(&error, "/userId");
    }
    assert!(get_customer(&acme, c.customer_id).await.users.is_empty());
    assert!(get_user(&globex, foreign).await.customer_ids.is_empty());
    h.finish().await;
}

#[tokio::test]
async fn unlinking_removes_both_sides_and_a_second_unlink_is_404() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let (c, u, other) = (
        customer(&acme, "C").await,
        user(&acme, "U").await,
        user(&acme, "Other").await,
    );
    link(&acme, c.customer_id, u.user_id).await;
    link(&acme, c.customer_id, other.user_id).await;
    let response = expect_ok(
        acme.remove_user_from_customer()
            .customer_id(c.customer_id.to_string())
            .user_id(u.user_id)
            .send()
            .await,
        204,
    );
    assert!(!replayed(&response));
    assert_link(&acme, c.customer_id, u.user_id, false).await;
    assert_link(&acme, c.customer_id, other.user_id, true).await;
    // Neither the user nor the customer is deleted.
    assert_eq!(user_total(&acme).await, 2);
    assert_eq!(customer_total(&acme).await, 1);
    for user_id in [u.user_id, Uuid::new_v4()] {
        expect_error(
            acme.remove_user_from_customer()
                .customer_id(c.customer_id.to_string())
                .user_id(user_id)
                .send()
                .await,
            404,
            "not_found",
        );
    }
    assert_link(&acme, c.customer_id, other.user_id, true).await;
    h.finish().await;
}

#[tokio::test]
async fn a_relink_after_unlink_works_and_names_follow_renames_on_both_sides() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let (c, u) = (customer(&acme, "C").await, user(&acme, "U").await);
    link(&acme, c.customer_id, u.user_id).await;
    expect_ok(
        acme.remove_user_from_customer()
            .customer_id(c.customer_id.to_string())
            .user_id(u.user_id)
            .send()
            .await,
        204,
    );
    link(&acme, c.customer_id, u.user_id).await;
    expect_ok(
        acme.update_user()
            .user_id(u.user_id.to_string())
            .body(typed::<types::UpdateUserRequest>(
                json!({"name": "U renamed"}),
            ))
            .send()
            .await,
        200,
    );
    expect_ok(
        acme.update_customer()
            .customer_id(c.customer_id.to_string())
            .body(typed::<types::UpdateCustomerRequest>(
                json!({"name": "C renamed"}),
            ))
            .send()
            .await,
        200,
    );
    // assert_link checks that each side shows the other's current name.
    assert_link(&acme, c.customer_id, u.user_id, true).await;
    assert_eq!(
        get_user(&acme, u.user_id).await.customers[0].name.as_str(),
        "C renamed"
    );
    h.finish().await;
}

#[tokio::test]
async fn list_users_by_repeated_customer_id_is_the_union_and_foreign_ids_match_nothing() {
    let h = Harness::start().await;
    let (acme, globex) = (h.client(Acme), h.client(Globex));
    let (c1, c2, c3) = (
        customer(&acme, "C1").await,
        customer(&acme, "C2").await,
        customer(&acme, "C3").await,
    );
    let ada = user(&acme, "Ada").await;
    let bob = user(&acme, "Bob").await;
    let cy = user(&acme, "Cy").await;
    user(&acme, "Unlinked").await;
    link(&acme, c1.customer_id, ada.user_id).await;
    link(&acme, c2.customer_id, bob.user_id).await;
    link(&acme, c1.customer_id, bob.user_id).await;
    link(&acme, c3.customer_id, cy.user_id).await;
    let foreign = customer(&globex, "G").await.customer_id;
    let globex_user = user(&globex, "Ada from Globex").await;
    link(&globex, foreign, globex_user.user_id).await;

    let list = |ids: Vec<Uuid>, filter: Option<&'static str>| {
        let mut request = acme.list_users().customer_id(ids);
        if let Some(filter) = filter {
            request = request.filter(filter);
        }
        async move {
            let page = expect_ok(request.send().await, 200).into_inner();
            assert_eq!(page.pagination.total, page.items.len() as i64);
            page.items
                .into_iter()
                .map(|u| u.name.to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(vec![c1.customer_id], None).await, ["Ada", "Bob"]);
    // Bob is linked to both: listed once, in creation order.
    assert_eq!(
        list(vec![c2.customer_id, c1.customer_id], None).await,
        ["Ada", "Bob"]
    );
    assert_eq!(
        list(vec![c3.customer_id, c2.customer_id], None).await,
        ["Bob", "Cy"]
    );
    assert_eq!(list(vec![c1.customer_id], Some("BO")).await, ["Bob"]);
    assert!(list(vec![foreign], None).await.is_empty());
    assert!(list(vec![Uuid::new_v4()], None).await.is_empty());
    h.finish().await;
}

#[tokio::test]
async fn unlinking_the_contact_person_leaves_no_unlinked_contact_person() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let person = user(&acme, "Person").await;
    let c = expect_ok(
        acme.create_customer()
            .body(typed::<types::CreateCustomerRequest>(json!({
                "customerType": "BUSINESS", "name": "C", "contactPersonUserId": person.user_id
            })))
            .send()
            .await,
        201,
    )
    .into_inner();
    assert_link(&acme, c.customer_id, person.user_id, true).await;
    expect_ok(
        acme.remove_user_from_customer()
            .customer_id(c.customer_id.to_string())
            .user_id(person.user_id)
            .send()
            .await,
        204,
    );
    assert_link(&acme, c.customer_id, person.user_id, false).await;
    let after = get_customer(&acme, c.customer_id).await;
    let holds = after
        .contact_person_user_id
        .is_none_or(|id| after.users.iter().any(|u| u.user_id == id))
        && after
            .contact_person
            .as_ref()
            .is_none_or(|p| after.users.iter().any(|u| u.user_id == p.user_id));
    conforms(
        Bug::ContactPersonLeftUnlinked,
        holds,
        &format!("the contact person must be a linked user: {}", json(&after)),
    );
    h.finish().await;
}

#[tokio::test]
async fn concurrent_links_of_one_pair_make_exactly_one_link() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    let (c, u) = (customer(&acme, "C").await, user(&acme, "U").await);
    let clients: Vec<connect_client::Client> = (0..8).map(|_| h.client(Acme)).collect();
    let results = futures::future::join_all(clients.iter().map(|client| {
        client
            .add_user_to_customer()
            .customer_id(c.customer_id.to_string())
            .body(types::AddUserToCustomerRequest::builder().user_id(u.user_id))
            .send()
    }))
    .await;
    let mut linked = 0;
    for result in results {
        match result {
            Ok(response) if response.status() == 201 => linked += 1,
            other => {
                expect_error(other, 409, "conflict");
            }
        }
    }
    assert_eq!(linked, 1);
    assert_eq!(get_customer(&acme, c.customer_id).await.users.len(), 1);
    assert_link(&acme, c.customer_id, u.user_id, true).await;
    h.finish().await;
}
