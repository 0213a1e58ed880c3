//! What the `conventions` client's generated conveniences call: the hand-written half a client
//! crate supplies (`client-conveniences` names it), here as small as the contract allows, so
//! that the tests exercise the generated half (which arguments reach which builder setter, one
//! key for all attempts, pages asked for by cursor) through HTTP. `connect-client` has the full
//! version: jittered backoff, typed errors, the retryable 409.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use progenitor_client::ResponseValue;

use crate::conventions_client::{Client, types};

/// What a generated call fails with.
pub type RawError = progenitor_client::Error<types::Problem>;

/// A failed call after its retries: its status, if it got one, and how many attempts it took.
#[derive(Debug)]
pub struct ApiError {
    pub status: Option<u16>,
    pub message: String,
    pub attempts: u32,
}

impl From<RawError> for ApiError {
    fn from(error: RawError) -> Self {
        Self {
            status: error.status().map(|status| status.as_u16()),
            message: error.to_string(),
            attempts: 1,
        }
    }
}

/// How many attempts a call gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 3 }
    }
}

/// The result of a retried write.
pub type Retried<T> = Result<ResponseValue<T>, ApiError>;

/// Retries through a client; the generated retry-safe methods are on it.
pub struct Retrying<'a> {
    client: &'a Client,
    policy: RetryPolicy,
}

impl Client {
    pub fn retrying(&self) -> Retrying<'_> {
        Retrying {
            client: self,
            policy: RetryPolicy::default(),
        }
    }
}

/// Keys unique within the process: enough for tests.
static KEYS: AtomicU64 = AtomicU64::new(1);

impl<'a> Retrying<'a> {
    pub(crate) fn client(&self) -> &'a Client {
        self.client
    }

    /// One logical write: the same key on every attempt.
    pub async fn write<T, F, Fut>(&self, mut send: F) -> Result<T, ApiError>
    where
        F: FnMut(String) -> Fut,
        Fut: Future<Output = Result<T, RawError>>,
    {
        let key = format!("key-{}", KEYS.fetch_add(1, Ordering::Relaxed));
        run(&self.policy, || send(key.clone())).await
    }
}

/// Sends until success, a 4xx, or the last attempt.
async fn run<T, F, Fut>(policy: &RetryPolicy, mut send: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RawError>>,
{
    let mut attempt = 1;
    loop {
        match send().await {
            Ok(value) => return Ok(value),
            Err(error) => {
                let mut error = ApiError::from(error);
                error.attempts = attempt;
                let client_error = error.status.is_some_and(|status| status < 500);
                if client_error || attempt >= policy.max_attempts.max(1) {
                    return Err(error);
                }
            }
        }
        attempt += 1;
    }
}

pub mod retry {
    use super::{ApiError, RawError};

    /// A body converted once, before the first attempt.
    pub fn convert<B, T>(body: B, name: &str) -> Result<T, ApiError>
    where
        B: TryInto<T>,
        B::Error: std::fmt::Display,
    {
        body.try_into()
            .map_err(|error| ApiError::from(RawError::InvalidRequest(format!("{name}: {error}"))))
    }
}

pub mod paging {
    use super::*;

    /// Used when a list's `limit` has neither a default nor a maximum.
    pub const DEFAULT_PAGE_SIZE: u32 = 20;

    /// A page as the generated streams read it.
    pub struct Page<T> {
        pub items: Vec<T>,
        pub total: i64,
        pub position: Option<i64>,
        pub next_cursor: Option<String>,
    }

    /// Follows each page's cursor (by offset when there is none) until a page gives none.
    pub fn walk<'a, T, F, Fut>(
        fetch: F,
        page_size: u32,
        policy: RetryPolicy,
    ) -> BoxStream<'a, Result<T, ApiError>>
    where
        T: Send + 'a,
        F: Fn(i64, u32, Option<String>) -> Fut + Send + Sync + 'a,
        Fut: Future<Output = Result<Page<T>, RawError>> + Send + 'a,
    {
        // The state between pages: (fetch, offset, cursor, done).
        let start = (fetch, 0_i64, None::<String>, false);
        stream::try_unfold(start, move |(fetch, offset, cursor, done)| {
            let policy = policy.clone();
            async move {
                if done {
                    return Ok::<_, ApiError>(None);
                }
                let page = run(&policy, || fetch(offset, page_size, cursor.clone())).await?;
                let next = offset + i64::try_from(page.items.len()).unwrap_or(i64::MAX);
                let done = page.items.is_empty()
                    || match &page.next_cursor {
                        Some(_) => false,
                        None => cursor.is_some() || next >= page.total,
                    };
                Ok(Some((page.items, (fetch, next, page.next_cursor, done))))
            }
        })
        .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }
}
