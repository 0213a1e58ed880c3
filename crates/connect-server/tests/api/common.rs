//! The harness: a real server on 127.0.0.1:0 with a fresh store and a manual clock.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use connect_server::auth::{ApiKeys, Tenant};
use connect_server::clock::ManualClock;
use connect_server::store::{
    CustomerFilter, InMemoryStore, Page, PageRequest, Store, StoreError, UserFilter, UserKey,
};
use connect_types as types;
use dropshot::HttpServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Notify;
use uuid::Uuid;

pub const ACME: &str = "key-acme";
pub const GLOBEX: &str = "key-globex";

pub struct Server {
    pub server: HttpServer<connect_server::ServerContext>,
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
}

/// What a request got back.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The error `code`, asserting the body is an error.
    pub fn code(&self) -> &str {
        self.body["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {self:?}"))
    }

    /// The `property` of every detail.
    pub fn properties(&self) -> Vec<String> {
        self.body["details"]
            .as_array()
            .map(|d| {
                d.iter()
                    .map(|d| d["property"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn replayed(&self) -> bool {
        self.headers
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true")
    }
}

pub fn start() -> Server {
    let clock = Arc::new(ManualClock::new(
        "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap(),
    ));
    let store = Arc::new(InMemoryStore::new(clock.clone()));
    start_with(clock, store)
}

pub fn start_with(clock: Arc<ManualClock>, store: Arc<dyn Store>) -> Server {
    start_with_limits(clock, store, connect_server::Limits::default())
}

/// A server with its own bounds (the store's quotas are the store's).
pub fn start_with_limits(
    clock: Arc<ManualClock>,
    store: Arc<dyn Store>,
    limits: connect_server::Limits,
) -> Server {
    start_with_log(clock, store, limits, connect_server::logging::discard())
}

/// A server logging to `log`.
pub fn start_with_log(
    clock: Arc<ManualClock>,
    store: Arc<dyn Store>,
    limits: connect_server::Limits,
    log: slog::Logger,
) -> Server {
    let server = connect_server::start_with_store(
        connect_server::Config {
            limits,
            ..connect_server::Config::new(
                "127.0.0.1:0".parse().unwrap(),
                ApiKeys::new([
                    ("acme".to_string(), ACME.to_string()),
                    ("globex".to_string(), GLOBEX.to_string()),
                ]),
                clock.clone(),
                log,
            )
        },
        store,
    )
    .expect("server starts");
    let base = format!("http://{}", server.local_addr());
    Server {
        server,
        base,
        http: reqwest::Client::new(),
        clock,
    }
}

impl Server {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.header("X-API-Key", key);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("a JSON body")
        };
        assert!(
            status.as_u16() < 500,
            "server error for {path}: {status} {body}"
        );
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, Some(ACME), &[], None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(ACME), &[], Some(body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(ACME), &[], Some(body))
            .await
    }

    /// Creates a user in tenant acme and returns its id.
    pub async fn user(&self, name: &str) -> String {
        let reply = self.post("/users", json!({ "name": name })).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        reply.body["userId"].as_str().unwrap().to_string()
    }

    /// Creates a customer in tenant acme and returns its id.
    pub async fn customer(&self, name: &str) -> String {
        let reply = self
            .post(
                "/customers",
                json!({ "name": name, "customerType": "BUSINESS" }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        reply.body["customerId"].as_str().unwrap().to_string()
    }

    pub async fn user_total(&self) -> u64 {
        self.get("/users?limit=1").await.body["pagination"]["total"]
            .as_u64()
            .unwrap()
    }

    pub async fn customer_total(&self) -> u64 {
        self.get("/customers?limit=1").await.body["pagination"]["total"]
            .as_u64()
            .unwrap()
    }
}

/// A store whose `create_user` waits until released, to hold a request in flight.
pub struct Gate {
    inner: InMemoryStore,
    pub entered: Notify,
    pub release: Notify,
}

impl Gate {
    pub fn new() -> (Arc<ManualClock>, Arc<Self>) {
        let clock = Arc::new(ManualClock::new(DateTime::UNIX_EPOCH));
        let gate = Self {
            inner: InMemoryStore::new(clock.clone()),
            entered: Notify::new(),
            release: Notify::new(),
        };
        (clock, Arc::new(gate))
    }
}

#[async_trait]
impl Store for Gate {
    async fn create_user(
        &self,
        tenant: &Tenant,
        request: types::CreateUserRequest,
    ) -> Result<types::User, StoreError> {
        self.entered.notify_one();
        self.release.notified().await;
        self.inner.create_user(tenant, request).await
    }
    async fn list_users(
        &self,
        t: &Tenant,
        f: &UserFilter,
        p: PageRequest,
    ) -> Result<Page<types::User>, StoreError> {
        self.inner.list_users(t, f, p).await
    }
    async fn get_user(&self, t: &Tenant, k: &UserKey) -> Result<types::User, StoreError> {
        self.inner.get_user(t, k).await
    }
    async fn update_user(
        &self,
        t: &Tenant,
        id: Uuid,
        r: types::UpdateUserRequest,
    ) -> Result<types::User, StoreError> {
        self.inner.update_user(t, id, r).await
    }
    async fn user_exists(
        &self,
        t: &Tenant,
        e: Option<&str>,
        m: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.inner.user_exists(t, e, m).await
    }
    async fn list_customers(
        &self,
        t: &Tenant,
        f: &CustomerFilter,
        p: PageRequest,
    ) -> Result<Page<types::Customer>, StoreError> {
        self.inner.list_customers(t, f, p).await
    }
    async fn create_customer(
        &self,
        t: &Tenant,
        r: types::CreateCustomerRequest,
    ) -> Result<types::Customer, StoreError> {
        self.inner.create_customer(t, r).await
    }
    async fn get_customer(&self, t: &Tenant, id: Uuid) -> Result<types::Customer, StoreError> {
        self.inner.get_customer(t, id).await
    }
    async fn update_customer(
        &self,
        t: &Tenant,
        id: Uuid,
        r: types::UpdateCustomerRequest,
    ) -> Result<types::Customer, StoreError> {
        self.inner.update_customer(t, id, r).await
    }
    async fn update_billing(
        &self,
        t: &Tenant,
        id: Uuid,
        b: types::Billing,
    ) -> Result<types::Customer, StoreError> {
        self.inner.update_billing(t, id, b).await
    }
    async fn add_user(
        &self,
        t: &Tenant,
        c: Uuid,
        u: Uuid,
        r: types::CustomerUserRole,
    ) -> Result<types::CustomerUser, StoreError> {
        self.inner.add_user(t, c, u, r).await
    }
    async fn remove_user(&self, t: &Tenant, c: Uuid, u: Uuid) -> Result<(), StoreError> {
        self.inner.remove_user(t, c, u).await
    }
}
