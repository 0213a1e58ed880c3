//! The spec's `Error` body as a typed value on every failed call, and messages a person can act
//! on.

use connect_client::{ApiError, Client, ErrorExt, RetryPolicy, types};

use crate::common::{Api, Fault, FaultServer, client_for, error_body};

#[tokio::test]
async fn documented_errors_carry_the_typed_body() {
    let api = Api::start();
    let client = api.client();

    let error = client
        .get_user()
        .user_id("rid_nobody")
        .send()
        .await
        .expect_err("no such user");

    assert_eq!(error.code(), Some("not_found"));
    let body = error.api_error().expect("a typed body");
    assert!(!body.message.is_empty());
    let error = ApiError::from(error);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    assert!(
        error.to_string().starts_with("404 Not Found: not_found: "),
        "{error}"
    );
}

#[tokio::test]
async fn validation_errors_name_each_property() {
    let api = Api::start();
    let client = api.client();

    // Above the spec's `maximum` of 1000 (the typed client does not check numbers).
    let error = client
        .list_users()
        .limit(5000u64)
        .send()
        .await
        .expect_err("limit out of range");
    assert_eq!(error.code(), Some("validation_error"));
    let properties: Vec<String> = error
        .api_error()
        .unwrap()
        .details
        .iter()
        .map(|detail| detail.property.clone())
        .collect();
    assert_eq!(properties, ["query/limit"]);
    let message = ApiError::from(error).to_string();
    assert!(
        message.starts_with("400 Bad Request: validation_error: "),
        "{message}"
    );
    assert!(message.contains("query/limit: "), "{message}");

    // A valid request that names users who are not there: 404, a detail for each.
    let nobody = uuid::Uuid::new_v4();
    let error = client
        .create_customer()
        .body(
            types::CreateCustomerRequest::builder()
                .customer_type(types::CustomerType::Consumer)
                .name("Ada Lovelace")
                .user_ids(vec![nobody])
                .contact_person_user_id(nobody),
        )
        .send()
        .await
        .expect_err("no such users");
    assert_eq!(error.code(), Some("not_found"));
    let properties: Vec<String> = error
        .api_error()
        .unwrap()
        .details
        .iter()
        .map(|detail| detail.property.clone())
        .collect();
    assert_eq!(properties, ["/userIds/0", "/contactPersonUserId"]);
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized() {
    let api = Api::start();
    let client = Client::with_api_key(&api.url, "not-the-key").unwrap();

    let error = client.list_users().send().await.expect_err("a wrong key");

    assert_eq!(error.code(), Some("unauthorized"));
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
}

#[tokio::test]
async fn undocumented_error_bodies_are_read_into_the_typed_body() {
    // The spec lists no 500 for getUser: progenitor leaves the body unread.
    let server = FaultServer::start(
        None,
        [],
        Fault::Respond(500, error_body("internal", "boom")),
    )
    .await;
    let client = client_for(&server.url);

    let error = client
        .get_user()
        .user_id("rid_x")
        .send()
        .await
        .expect_err("a 500");
    assert!(matches!(
        error,
        connect_client::Error::UnexpectedResponse(_)
    ));
    assert_eq!(error.api_error().map(|body| body.code.as_str()), None);

    let error = ApiError::from_error(error).await;
    assert_eq!(error.code(), Some("internal"));
    assert_eq!(
        error.to_string(),
        "500 Internal Server Error: internal: boom"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn other_bodies_are_quoted_and_kept() {
    let page = "<html><h1>502 Bad Gateway</h1></html>";
    let server = FaultServer::start(None, [], Fault::Respond(502, page.to_string())).await;
    let client = client_for(&server.url);

    let error = client.list_users().send().await.expect_err("a 502");
    let error = ApiError::from_error(error).await;

    assert_eq!(error.code(), None);
    assert_eq!(
        error.to_string(),
        format!("502 Bad Gateway: unexpected response `{page}`")
    );
    let connect_client::Error::UnexpectedResponse(response) = error.into_inner() else {
        panic!("still the unexpected response");
    };
    assert_eq!(response.status().as_u16(), 502);
    assert_eq!(
        response.text().await.unwrap(),
        page,
        "the body can still be read"
    );
}

#[tokio::test]
async fn transport_errors_say_what_happened() {
    let server = FaultServer::start(None, [], Fault::Drop).await;
    let client = client_for(&server.url);

    let error = client
        .retrying_with(RetryPolicy::never())
        .create_user(types::CreateUserRequest::builder().name("Ada"))
        .await
        .expect_err("no answer");

    assert_eq!(error.status(), None);
    assert!(error.is_retryable());
    // The message names the cause, not only "error sending request".
    let message = error.to_string();
    assert!(
        message.starts_with("the request failed: error sending request for url"),
        "{message}"
    );
    assert!(message.contains("connection closed"), "{message}");
}

#[test]
fn api_errors_fit_in_any_error_box() {
    fn assert_error<E: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<ApiError>();
    assert_error::<connect_client::BuildError>();
    assert_error::<types::Error>();
}
