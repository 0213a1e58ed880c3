//! `Client::with_api_key` and `ClientBuilder`: the key on every request, timeouts, one's own
//! reqwest configuration.

use std::time::Duration;

use connect_client::ClientState;
use connect_client::{BuildError, Client, RetryPolicy, types};
use reqwest::header::{HeaderMap, HeaderValue};

use crate::common::{Api, Fault, FaultServer, KEY, client_for};

#[tokio::test]
async fn the_key_goes_on_every_request() {
    let api = Api::start();
    let proxy = FaultServer::proxy(&api.url).await;
    let client = client_for(&proxy.url);

    let user = client
        .create_user()
        .body(types::CreateUserRequest::builder().name("Ada"))
        .send()
        .await
        .unwrap();
    client
        .get_user()
        .user_id(user.user_id.to_string())
        .send()
        .await
        .unwrap();
    client.list_users().send().await.unwrap();

    let requests = proxy.requests();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_eq!(request.header("x-api-key"), Some(KEY));
        assert_eq!(
            request.header("user-agent"),
            Some(format!("connect-client/{}", connect_client::VERSION).as_str())
        );
    }
}

#[tokio::test]
async fn an_own_reqwest_builder_keeps_its_settings() {
    let api = Api::start();
    let proxy = FaultServer::proxy(&api.url).await;
    let mut headers = HeaderMap::new();
    headers.insert("x-trace", HeaderValue::from_static("inventory-sync"));
    let http = reqwest::ClientBuilder::new()
        .user_agent("inventory-sync/2.1")
        .default_headers(headers);

    let client = Client::builder(&proxy.url)
        .api_key(KEY)
        .reqwest(http)
        .build()
        .unwrap();
    client.list_users().send().await.unwrap();

    let [request] = proxy.requests().try_into().unwrap();
    assert_eq!(request.header("x-api-key"), Some(KEY));
    assert_eq!(request.header("user-agent"), Some("inventory-sync/2.1"));
    assert_eq!(request.header("x-trace"), Some("inventory-sync"));
}

#[tokio::test]
async fn an_existing_reqwest_client_that_sends_the_key() {
    let api = Api::start();
    let mut headers = HeaderMap::new();
    headers.insert("x-api-key", HeaderValue::from_static(KEY));
    let http = reqwest::ClientBuilder::new()
        .default_headers(headers)
        .build()
        .unwrap();

    let client = Client::new_with_client(&api.url, http, ClientState::without_api_key());

    client.list_users().send().await.expect("authorized");
}

#[tokio::test]
async fn an_existing_reqwest_client_gets_the_key_from_the_client() {
    let api = Api::start();
    // A plain reqwest client, shared with other uses: nothing about the API in it.
    let http = reqwest::Client::new();

    let client = Client::with_reqwest_client(&api.url, KEY, http.clone()).unwrap();
    client.list_users().send().await.expect("authorized");

    let anonymous = http.get(format!("{}/users", api.url)).send().await.unwrap();
    assert_eq!(
        anonymous.status(),
        401,
        "the shared reqwest client itself carries no key"
    );
    assert!(
        !format!("{client:?}").contains(KEY),
        "the key is never printed"
    );
}

#[tokio::test]
async fn a_trailing_slash_in_the_base_url_is_fine() {
    let api = Api::start();
    let client = Client::with_api_key(&format!("{}/", api.url), KEY).unwrap();

    client
        .list_users()
        .send()
        .await
        .expect("GET /users, not //users");
}

#[tokio::test]
async fn a_request_that_takes_too_long_times_out() {
    let server = FaultServer::start(None, [], Fault::Hang).await;
    let client = Client::builder(&server.url)
        .api_key(KEY)
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();

    let error = client
        .retrying_with(RetryPolicy::never())
        .read(|| client.list_users().send())
        .await
        .expect_err("no answer in time");

    let message = error.to_string();
    assert!(message.starts_with("the request timed out: "), "{message}");
    assert!(message.ends_with("operation timed out"), "{message}");
    assert!(error.is_retryable());
}

#[test]
fn bad_configurations_are_refused_without_showing_the_key() {
    assert!(matches!(
        Client::with_api_key("localhost:8080", KEY),
        Err(BuildError::InvalidBaseUrl { .. })
    ));
    let error = Client::with_api_key("http://127.0.0.1:8080", "").unwrap_err();
    assert_eq!(error.to_string(), "invalid API key: it is empty");
    let error = Client::with_api_key("http://127.0.0.1:8080", "s3cret\n").unwrap_err();
    assert!(!error.to_string().contains("s3cret"), "{error}");
}

#[test]
fn debug_output_hides_the_key() {
    let client = Client::with_api_key("http://127.0.0.1:8080", "s3cret-key").unwrap();
    let shown = format!("{client:?}");
    assert!(!shown.contains("s3cret-key"), "{shown}");
    let builder = Client::builder("http://127.0.0.1:8080").api_key("s3cret-key");
    assert!(!format!("{builder:?}").contains("s3cret-key"));
}
