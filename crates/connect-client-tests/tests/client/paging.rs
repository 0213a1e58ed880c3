//! `Client::all_users` and `Client::all_customers`: every item once, across page boundaries,
//! also while items are being created.

use connect_client::{ApiError, Client, types};
use futures::{StreamExt, TryStreamExt};
use uuid::Uuid;

use crate::common::{Api, Fault, FaultServer, client_for, create_users, error_body, fast};

fn ids(users: &[types::User]) -> Vec<Uuid> {
    users.iter().map(|user| user.user_id).collect()
}

/// The `offset` of every list request the server saw.
/// How each page was asked for: `offset=N`, or `cursor` for a page after a `nextCursor`.
fn pages(server: &FaultServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter(|request| request.method == "GET")
        .map(|request| {
            let query = request
                .target
                .split_once('?')
                .map_or("", |(_, query)| query);
            if query.split('&').any(|pair| pair.starts_with("cursor=")) {
                return "cursor".to_string();
            }
            let offset = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("offset="))
                .map_or(0, |offset| offset.parse::<i64>().unwrap());
            format!("offset={offset}")
        })
        .collect()
}

async fn create_customer(
    client: &Client,
    name: &str,
    kind: types::CustomerType,
) -> types::Customer {
    client
        .create_customer()
        .body(
            types::CreateCustomerRequest::builder()
                .customer_type(kind)
                .name(name),
        )
        .send()
        .await
        .expect("the customer is created")
        .into_inner()
}

#[tokio::test]
async fn every_user_once_across_page_boundaries() {
    let api = Api::start();
    let created = create_users(&api.client(), "User", 23).await;
    let proxy = FaultServer::proxy(&api.url).await;
    let client = client_for(&proxy.url);

    let streamed: Vec<types::User> = client
        .all_users()
        .page_size(5)
        .stream()
        .try_collect()
        .await
        .expect("every page");

    assert_eq!(
        ids(&streamed),
        ids(&created),
        "each user once, in list order"
    );
    // The first page by offset, each next one by the cursor the one before gave; the last
    // page gives none.
    assert_eq!(
        pages(&proxy),
        ["offset=0", "cursor", "cursor", "cursor", "cursor"],
        "stops at the last page"
    );
}

#[tokio::test]
async fn users_created_while_paging_cause_no_duplicates_or_skips() {
    let api = Api::start();
    let client = api.client();
    let before = create_users(&client, "Before", 12).await;

    let mut stream = client.all_users().page_size(5).stream();
    let mut streamed = Vec::new();
    let mut created_during = Vec::new();
    while let Some(user) = stream.try_next().await.expect("a page") {
        streamed.push(user);
        // Two new users after each page: they sort last, after every page still to read.
        if streamed.len() % 5 == 0 {
            let batch = format!("During {}", streamed.len());
            created_during.extend(create_users(&client, &batch, 2).await);
        }
    }

    assert_eq!(
        ids(&streamed),
        ids(&before),
        "exactly the users that existed when paging started, each once"
    );
    assert_eq!(created_during.len(), 4);
    // A new stream sees them all.
    let all: Vec<types::User> = client
        .all_users()
        .page_size(7)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&all), [ids(&before), ids(&created_during)].concat());
}

#[tokio::test]
async fn user_filters_are_those_of_list_users() {
    let api = Api::start();
    let client = api.client();
    let people = create_users(&client, "Joanna", 2).await;
    let ann = create_users(&client, "ANN", 1).await;
    let bob = create_users(&client, "Bob", 3).await;
    let customer = client
        .create_customer()
        .body(
            types::CreateCustomerRequest::builder()
                .customer_type(types::CustomerType::Business)
                .name("Acme AB")
                .user_ids(vec![bob[0].user_id, bob[2].user_id]),
        )
        .send()
        .await
        .unwrap();

    let matching: Vec<types::User> = client
        .all_users()
        .filter("ann")
        .page_size(1)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&matching), [ids(&people), ids(&ann)].concat());

    let linked: Vec<types::User> = client
        .all_users()
        .customer_id(customer.customer_id)
        .page_size(1)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&linked), [bob[0].user_id, bob[2].user_id]);
}

#[tokio::test]
async fn every_customer_once_with_filters() {
    let api = Api::start();
    let client = api.client();
    let mut created = Vec::new();
    for i in 0..7 {
        let kind = if i % 3 == 0 {
            types::CustomerType::Business
        } else {
            types::CustomerType::Consumer
        };
        created.push(create_customer(&client, &format!("Customer {i}"), kind).await);
    }
    let created_ids: Vec<Uuid> = created.iter().map(|c| c.customer_id).collect();

    let all: Vec<types::Customer> = client
        .all_customers()
        .page_size(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|c| c.customer_id).collect::<Vec<_>>(),
        created_ids
    );

    let business: Vec<types::Customer> = client
        .all_customers()
        .customer_type(types::CustomerType::Business)
        .page_size(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<Uuid> = [0, 3, 6].iter().map(|&i| created_ids[i]).collect();
    assert_eq!(
        business.iter().map(|c| c.customer_id).collect::<Vec<_>>(),
        expected
    );
}

#[tokio::test]
async fn an_empty_list_is_one_request() {
    let api = Api::start();
    let proxy = FaultServer::proxy(&api.url).await;
    let client = client_for(&proxy.url);

    let users: Vec<types::User> = client.all_users().stream().try_collect().await.unwrap();

    assert!(users.is_empty());
    assert_eq!(pages(&proxy), ["offset=0"]);
}

#[tokio::test]
async fn failed_pages_are_retried_then_end_the_stream() {
    let api = Api::start();
    let created = create_users(&api.client(), "User", 5).await;
    let proxy = FaultServer::start(
        Some(&api.url),
        [
            Fault::Forward,
            Fault::Respond(503, error_body("unavailable", "later")),
            Fault::Forward,
            Fault::Respond(400, error_body("validation_error", "bad offset")),
        ],
        Fault::Forward,
    )
    .await;
    let client = client_for(&proxy.url);

    let results: Vec<Result<types::User, ApiError>> = client
        .all_users()
        .page_size(2)
        .retry_policy(fast())
        .stream()
        .collect()
        .await;

    // Page 1, page 2 after one retry, then a 400 that no retry fixes.
    assert_eq!(results.len(), 5, "{results:?}");
    let streamed: Vec<Uuid> = results[..4]
        .iter()
        .map(|result| result.as_ref().expect("a user").user_id)
        .collect();
    assert_eq!(streamed, ids(&created[..4]));
    let error = results[4].as_ref().expect_err("the failed page");
    assert_eq!(error.code(), Some("validation_error"));
    assert_eq!(
        pages(&proxy),
        ["offset=0", "cursor", "cursor", "cursor"],
        "the stream ends at the error"
    );
    assert!(
        proxy.keys().iter().all(Option::is_none),
        "reads carry no key"
    );
}
