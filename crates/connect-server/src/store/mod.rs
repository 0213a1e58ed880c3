//! The store: every rule of the contract about data (uniqueness, links, referential checks,
//! the billing rules) lives behind this trait, so handlers stay thin and a persistent backend
//! can replace the in-memory one without touching them.

mod memory;
pub mod rules;

use async_trait::async_trait;
use connect_api::ApiError;
use connect_types as types;
use dropshot::ErrorStatusCode;
use uuid::Uuid;

use crate::auth::Tenant;

pub use memory::InMemoryStore;

/// Where an item sits in a list's order: `createdAt`, then id.
pub type Position = (chrono::DateTime<chrono::Utc>, Uuid);

/// One page of a list, with the number of matches in all.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    /// The index in the whole list of the page's first item.
    pub start: u64,
    /// The position of the page's last item, when items follow it (for the next cursor).
    pub next: Option<Position>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            start: self.start,
            next: self.next,
        }
    }
}

/// Which page to return: `limit` items, skipping `offset` after `after` (or from the start).
#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    pub limit: u64,
    pub offset: u64,
    /// Start after this position (a cursor's), so that items created meanwhile, which sort
    /// last, never shift the page.
    pub after: Option<Position>,
}

/// `listUsers` criteria; all given ones must hold.
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    /// Case-insensitive substring of name or email.
    pub text: Option<String>,
    /// Users linked to any of these customers (empty: no such criterion).
    pub customer_ids: Vec<Uuid>,
}

/// `listCustomers` criteria; all given ones must hold.
#[derive(Clone, Debug, Default)]
pub struct CustomerFilter {
    /// Case-insensitive substring of name, humanReadableId or contact email.
    pub text: Option<String>,
    pub customer_type: Option<types::CustomerType>,
}

/// What a list operation lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listing {
    Users,
    Customers,
}

/// How `getUser` names a user.
#[derive(Clone, Debug)]
pub enum UserKey {
    Id(Uuid),
    ReferenceId(String),
}

/// One bad property of a request, found by a rule the schema cannot state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the request body.
    pub property: String,
    pub code: &'static str,
    pub message: String,
}

/// How many objects one tenant may hold. At the largest sizes the spec allows a user is about
/// 38 KB of memory and a customer 74 KB, so the defaults bound a tenant to about 1.1 GB; at
/// typical sizes (under 2 KB each) to about 40 MB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    pub users: usize,
    pub customers: usize,
}

/// Users per tenant, by default.
pub const USERS_PER_TENANT: usize = 10_000;
/// Customers per tenant, by default.
pub const CUSTOMERS_PER_TENANT: usize = 10_000;

impl Default for Quotas {
    fn default() -> Self {
        Self {
            users: USERS_PER_TENANT,
            customers: CUSTOMERS_PER_TENANT,
        }
    }
}

/// Why the store refused.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("invalid request")]
    Invalid(Vec<Violation>),
    /// Objects the (valid) request names are not there: 404 with a detail for each.
    #[error("not found")]
    Missing(Vec<Violation>),
    /// The tenant holds as many of these as its quota allows.
    #[error("quota of {limit} {what} reached")]
    QuotaExceeded { what: &'static str, limit: usize },
}

/// The store, for one tenant at a time: no call sees another tenant's objects.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn list_users(
        &self,
        tenant: &Tenant,
        filter: &UserFilter,
        page: PageRequest,
    ) -> Result<Page<types::User>, StoreError>;
    async fn create_user(
        &self,
        tenant: &Tenant,
        request: types::CreateUserRequest,
    ) -> Result<types::User, StoreError>;
    async fn get_user(&self, tenant: &Tenant, key: &UserKey) -> Result<types::User, StoreError>;
    async fn update_user(
        &self,
        tenant: &Tenant,
        id: Uuid,
        request: types::UpdateUserRequest,
    ) -> Result<types::User, StoreError>;
    async fn user_exists(
        &self,
        tenant: &Tenant,
        email: Option<&str>,
        msisdn: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// About how many bytes of memory a page of `limit` of this tenant's users (or customers)
    /// takes to build and send: what the server reserves before it builds one.
    async fn page_bytes(&self, tenant: &Tenant, listing: Listing, limit: u64) -> usize {
        let _ = (tenant, listing);
        usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .saturating_mul(2048)
    }
    async fn list_customers(
        &self,
        tenant: &Tenant,
        filter: &CustomerFilter,
        page: PageRequest,
    ) -> Result<Page<types::Customer>, StoreError>;
    async fn create_customer(
        &self,
        tenant: &Tenant,
        request: types::CreateCustomerRequest,
    ) -> Result<types::Customer, StoreError>;
    async fn get_customer(&self, tenant: &Tenant, id: Uuid) -> Result<types::Customer, StoreError>;
    async fn update_customer(
        &self,
        tenant: &Tenant,
        id: Uuid,
        request: types::UpdateCustomerRequest,
    ) -> Result<types::Customer, StoreError>;
    async fn update_billing(
        &self,
        tenant: &Tenant,
        id: Uuid,
        billing: types::Billing,
    ) -> Result<types::Customer, StoreError>;
    async fn add_user(
        &self,
        tenant: &Tenant,
        customer: Uuid,
        user: Uuid,
        role: types::CustomerUserRole,
    ) -> Result<types::CustomerUser, StoreError>;
    async fn remove_user(
        &self,
        tenant: &Tenant,
        customer: Uuid,
        user: Uuid,
    ) -> Result<(), StoreError>;
}

/// The one place store errors become the spec's error body (stable codes).
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => ApiError::with_code(
                ErrorStatusCode::NOT_FOUND,
                "not_found",
                format!("{what} not found"),
            ),
            StoreError::Conflict(message) => {
                ApiError::with_code(ErrorStatusCode::CONFLICT, "conflict", message)
            }
            StoreError::QuotaExceeded { what, limit } => ApiError::with_code(
                ErrorStatusCode::CONFLICT,
                "quota_exceeded",
                format!("this tenant already holds {limit} {what}, the most its quota allows"),
            ),
            StoreError::Missing(violations) => {
                let mut error = ApiError::with_code(
                    ErrorStatusCode::NOT_FOUND,
                    "not_found",
                    match violations.as_slice() {
                        [one] => format!("{}: {}", one.property, one.message),
                        many => format!("{} users named in the request are not there", many.len()),
                    },
                );
                if let Some(body) = error.spec_body_mut() {
                    body.details = violations
                        .into_iter()
                        .map(|v| types::ErrorDetail {
                            property: v.property,
                            code: v.code.to_string(),
                            message: v.message,
                        })
                        .collect();
                }
                error
            }
            StoreError::Invalid(violations) => ApiError::from(spec_runtime::Rejection::validation(
                violations
                    .into_iter()
                    .map(|v| spec_runtime::Detail {
                        property: v.property,
                        code: v.code.to_string(),
                        message: v.message,
                    })
                    .collect(),
            )),
        }
    }
}
