//! `X-Idempotency-Key`: replay, mismatch, locked, expiry, 4xx replay, per-tenant scope.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use connect_server::auth::Tenant;
use connect_server::clock::ManualClock;
use connect_server::store::{
    CustomerFilter, InMemoryStore, Page, PageRequest, Store, StoreError, UserFilter, UserKey,
};
use connect_types as types;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::common::{ACME, GLOBEX, start, start_with};

#[tokio::test]
async fn an_identical_retry_is_replayed_and_runs_nothing() {
    let server = start();
    let key = [("X-Idempotency-Key", "create-ada")];
    let body = json!({"name": "Ada", "referenceId": "crm-1"});
    let first = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body.clone()))
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert!(!first.replayed());
    let second = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body))
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert!(second.replayed());
    assert_eq!(second.body, first.body);
    assert_eq!(server.user_total().await, 1);
}

#[tokio::test]
async fn the_same_key_with_a_different_request_is_a_mismatch() {
    let server = start();
    let key = [("X-Idempotency-Key", "k")];
    server
        .send(
            Method::POST,
            "/users",
            Some(ACME),
            &key,
            Some(json!({"name": "Ada"})),
        )
        .await;
    let other_body = server
        .send(
            Method::POST,
            "/users",
            Some(ACME),
            &key,
            Some(json!({"name": "Bob"})),
        )
        .await;
    assert_eq!(other_body.status, StatusCode::CONFLICT);
    assert_eq!(other_body.code(), "idempotency_key_mismatch");
    let customer = server.customer("Acme").await;
    let other_path = server
        .send(
            Method::PUT,
            &format!("/customers/{customer}"),
            Some(ACME),
            &key,
            Some(json!({"name": "Ada"})),
        )
        .await;
    assert_eq!(other_path.code(), "idempotency_key_mismatch");
    assert_eq!(server.user_total().await, 1);
}

#[tokio::test]
async fn a_failed_first_attempt_is_replayed_too() {
    let server = start();
    let key = [("X-Idempotency-Key", "bad")];
    let body = json!({"name": ""});
    let first = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body.clone()))
        .await;
    assert_eq!(first.status, StatusCode::BAD_REQUEST);
    let second = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body))
        .await;
    assert_eq!(second.status, StatusCode::BAD_REQUEST);
    assert_eq!(second.body["details"], first.body["details"]);
    // Even once the cause is gone: a 404 for an unknown customer stays a 404 under its key.
    let ghost = Uuid::new_v4();
    let path = format!("/customers/{ghost}/users");
    let link = json!({"userId": Uuid::new_v4()});
    let first = server
        .send(
            Method::POST,
            &path,
            Some(ACME),
            &key[..0],
            Some(link.clone()),
        )
        .await;
    assert_eq!(first.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn keys_are_scoped_per_tenant() {
    let server = start();
    let key = [("X-Idempotency-Key", "shared")];
    let a = server
        .send(
            Method::POST,
            "/users",
            Some(ACME),
            &key,
            Some(json!({"name": "Ada"})),
        )
        .await;
    let b = server
        .send(
            Method::POST,
            "/users",
            Some(GLOBEX),
            &key,
            Some(json!({"name": "Bob"})),
        )
        .await;
    assert_eq!(
        (a.status, b.status),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    assert!(!b.replayed());
    assert_ne!(a.body["userId"], b.body["userId"]);
}

#[tokio::test]
async fn keys_expire_after_24_hours_and_are_forgotten() {
    let server = start();
    let key = [("X-Idempotency-Key", "daily")];
    let body = json!({"name": "Ada"});
    server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body.clone()))
        .await;
    server
        .clock
        .advance(Duration::hours(24) - Duration::seconds(1));
    let replay = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body.clone()))
        .await;
    assert!(replay.replayed());
    let acme = Tenant("acme".into());
    assert_eq!(server.server.app_private().idempotency.len(&acme), 1);
    server.clock.advance(Duration::seconds(1));
    assert_eq!(
        server.server.app_private().idempotency.len(&acme),
        0,
        "expired keys are reclaimed"
    );
    let rerun = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body))
        .await;
    assert_eq!(rerun.status, StatusCode::CREATED);
    assert!(!rerun.replayed());
    assert_eq!(server.user_total().await, 2);
}

/// A store whose `create_user` waits until released, to hold a request in flight.
struct Gate {
    inner: InMemoryStore,
    entered: Notify,
    release: Notify,
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

#[tokio::test]
async fn a_duplicate_while_the_first_is_running_is_locked() {
    let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
    let gate = Arc::new(Gate {
        inner: InMemoryStore::new(clock.clone()),
        entered: Notify::new(),
        release: Notify::new(),
    });
    let server = Arc::new(start_with(clock, gate.clone()));
    let key = [("X-Idempotency-Key", "slow")];
    let body = json!({"name": "Ada"});

    let first = tokio::spawn({
        let server = server.clone();
        let body = body.clone();
        async move {
            server
                .send(
                    Method::POST,
                    "/users",
                    Some(ACME),
                    &[("X-Idempotency-Key", "slow")],
                    Some(body),
                )
                .await
        }
    });
    gate.entered.notified().await;
    let duplicate = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body.clone()))
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_eq!(duplicate.code(), "idempotency_key_locked");
    let different = server
        .send(
            Method::POST,
            "/users",
            Some(ACME),
            &key,
            Some(json!({"name": "Bob"})),
        )
        .await;
    assert_eq!(different.code(), "idempotency_key_mismatch");

    gate.release.notify_one();
    let first = first.await.unwrap();
    assert_eq!(first.status, StatusCode::CREATED);
    let replay = server
        .send(Method::POST, "/users", Some(ACME), &key, Some(body))
        .await;
    assert!(replay.replayed());
    assert_eq!(replay.body, first.body);
}
