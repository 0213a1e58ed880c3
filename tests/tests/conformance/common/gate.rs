//! A request that is still running, on demand, for `idempotency_key_locked`.
//!
//! The server is started with `connect_server::start_with_store` over a store that wraps the
//! in-memory one and, when armed, stops inside the next write until the test releases it.
//! While it is stopped, the request's idempotency key is held as running, which is exactly the
//! state `idempotency_key_locked` is about: no timing, no sleeps.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use connect_server::auth::Tenant;
use connect_server::clock::{Clock, SystemClock};
use connect_server::store::{
    CustomerFilter, InMemoryStore, Page, PageRequest, Store, StoreError, UserFilter, UserKey,
};
use tokio::sync::{Notify, Semaphore};
use uuid::Uuid;

/// The switch between a test and the store.
pub struct Gate {
    armed: AtomicBool,
    entered: Notify,
    release: Semaphore,
}

impl Gate {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            armed: AtomicBool::new(false),
            entered: Notify::new(),
            release: Semaphore::new(0),
        })
    }

    /// The next write to reach the store will stop there.
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Resolves once the armed write is inside the store (and its key is held as running).
    pub async fn entered(&self) {
        self.entered.notified().await;
    }

    /// Lets the stopped write go on.
    pub fn release(&self) {
        self.release.add_permits(1);
    }

    async fn pass(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            // `notify_one` keeps a permit if the test is not waiting yet, so no wake-up is lost.
            self.entered.notify_one();
            self.release
                .acquire()
                .await
                .expect("the semaphore is never closed")
                .forget();
        }
    }
}

struct GatedStore {
    inner: InMemoryStore,
    gate: Arc<Gate>,
}

use connect_types as s;
type T<X> = Result<X, StoreError>;

#[async_trait]
impl Store for GatedStore {
    async fn list_users(&self, t: &Tenant, f: &UserFilter, p: PageRequest) -> T<Page<s::User>> {
        self.inner.list_users(t, f, p).await
    }
    async fn create_user(&self, t: &Tenant, r: s::CreateUserRequest) -> T<s::User> {
        self.gate.pass().await;
        self.inner.create_user(t, r).await
    }
    async fn get_user(&self, t: &Tenant, k: &UserKey) -> T<s::User> {
        self.inner.get_user(t, k).await
    }
    async fn update_user(&self, t: &Tenant, id: Uuid, r: s::UpdateUserRequest) -> T<s::User> {
        self.gate.pass().await;
        self.inner.update_user(t, id, r).await
    }
    async fn user_exists(&self, t: &Tenant, e: Option<&str>, m: Option<&str>) -> T<bool> {
        self.inner.user_exists(t, e, m).await
    }
    async fn list_customers(
        &self,
        t: &Tenant,
        f: &CustomerFilter,
        p: PageRequest,
    ) -> T<Page<s::Customer>> {
        self.inner.list_customers(t, f, p).await
    }
    async fn create_customer(&self, t: &Tenant, r: s::CreateCustomerRequest) -> T<s::Customer> {
        self.gate.pass().await;
        self.inner.create_customer(t, r).await
    }
    async fn get_customer(&self, t: &Tenant, id: Uuid) -> T<s::Customer> {
        self.inner.get_customer(t, id).await
    }
    async fn update_customer(
        &self,
        t: &Tenant,
        id: Uuid,
        r: s::UpdateCustomerRequest,
    ) -> T<s::Customer> {
        self.gate.pass().await;
        self.inner.update_customer(t, id, r).await
    }
    async fn update_billing(&self, t: &Tenant, id: Uuid, b: s::Billing) -> T<s::Customer> {
        self.gate.pass().await;
        self.inner.update_billing(t, id, b).await
    }
    async fn add_user(
        &self,
        t: &Tenant,
        c: Uuid,
        u: Uuid,
        role: s::CustomerUserRole,
    ) -> T<s::CustomerUser> {
        self.gate.pass().await;
        self.inner.add_user(t, c, u, role).await
    }
    async fn remove_user(&self, t: &Tenant, c: Uuid, u: Uuid) -> T<()> {
        self.gate.pass().await;
        self.inner.remove_user(t, c, u).await
    }
}

/// The server `connect_server::start` builds, over a gated store.
pub fn start_server(gate: Arc<Gate>) -> dropshot::HttpServer<connect_server::ServerContext> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Arc::new(GatedStore {
        inner: InMemoryStore::new(clock.clone()),
        gate,
    });
    connect_server::start_with_store(
        connect_server::Config::new(
            "127.0.0.1:0".parse().expect("a socket address"),
            super::api_keys(),
            clock,
            connect_server::logging::discard(),
        ),
        store,
    )
    .expect("the gated server starts")
}
