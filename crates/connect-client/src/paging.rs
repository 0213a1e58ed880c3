//! Paging: every user or customer as one [`Stream`], page by page.
//!
//! Lists are ordered by `createdAt`, then id, ascending (the contract's section 1.4), so
//! objects created while a stream runs sort after every object that existed when it started.
//! A stream reads the first page's `total` and yields exactly the objects at positions below it:
//! every object that existed when it started, each once, in list order; objects created later
//! are left for the next stream. Pages after the first are asked for by the `nextCursor` the
//! server gives (it continues right after the last item seen, so nothing shifts a page); a
//! server that gives none is paged by `offset`. As a second guard, an object that does not sort
//! after the one yielded before it is never yielded, so a page that shifted cannot produce a
//! duplicate.
//!
//! With a text `filter` or `customerId`, a change made during the walk (a rename, a link added
//! or removed) can move an older object into or out of the matches: still no duplicate, and
//! with cursors no other object is missed, but the object that changed may be.
//!
//! Each page is fetched through the stream's [`RetryPolicy`] (reads carry no idempotency key).
//! The first error ends the stream, after being yielded.

use std::future::Future;

use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};
use uuid::Uuid;

use crate::error::{ApiError, RawError};
use crate::retry::{self, RetryPolicy};
use crate::{Client, types};

/// Page size when none is given: the API's own default `limit`.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

impl Client {
    /// Every user of the tenant (optionally filtered, as `listUsers` filters), as a stream.
    ///
    /// ```no_run
    /// # async fn example(client: &connect_client::Client) -> Result<(), connect_client::ApiError> {
    /// use futures::TryStreamExt;
    ///
    /// let mut users = client.all_users().filter("ada").page_size(50).stream();
    /// while let Some(user) = users.try_next().await? {
    ///     println!("{} {}", user.user_id, user.name.as_str());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn all_users(&self) -> AllUsers<'_> {
        AllUsers {
            client: self,
            filter: None,
            customer_ids: Vec::new(),
            page_size: DEFAULT_PAGE_SIZE,
            policy: RetryPolicy::default(),
        }
    }

    /// Every customer of the tenant (optionally filtered, as `listCustomers` filters), as a
    /// stream.
    pub fn all_customers(&self) -> AllCustomers<'_> {
        AllCustomers {
            client: self,
            filter: None,
            customer_type: None,
            page_size: DEFAULT_PAGE_SIZE,
            policy: RetryPolicy::default(),
        }
    }
}

/// The users to stream: made by [`Client::all_users`], consumed by [`AllUsers::stream`].
#[derive(Clone, Debug)]
#[must_use = "call .stream() to read the users"]
pub struct AllUsers<'a> {
    client: &'a Client,
    filter: Option<String>,
    customer_ids: Vec<Uuid>,
    page_size: u32,
    policy: RetryPolicy,
}

impl<'a> AllUsers<'a> {
    /// Only users whose name or email contains `text` (case-insensitive).
    pub fn filter(mut self, text: impl Into<String>) -> Self {
        self.filter = Some(text.into());
        self
    }

    /// Only users linked to this customer, or to any other one given.
    pub fn customer_id(mut self, customer_id: Uuid) -> Self {
        self.customer_ids.push(customer_id);
        self
    }

    /// Only users linked to at least one of these customers.
    pub fn customer_ids(mut self, customer_ids: impl IntoIterator<Item = Uuid>) -> Self {
        self.customer_ids.extend(customer_ids);
        self
    }

    /// Users per request (`limit`, 1..=1000; default [`DEFAULT_PAGE_SIZE`]).
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size;
        self
    }

    /// How page requests are retried (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The users, each once, in list order (see the [module docs](self)).
    pub fn stream(self) -> BoxStream<'a, Result<types::User, ApiError>> {
        let Self {
            client,
            filter,
            customer_ids,
            page_size,
            policy,
        } = self;
        let fetch = move |offset: i64, limit: u32, cursor: Option<String>| {
            let mut request = client.list_users().offset(offset).limit(u64::from(limit));
            if let Some(cursor) = cursor {
                request = request.cursor(cursor);
            }
            if let Some(filter) = &filter {
                request = request.filter(filter.as_str());
            }
            if !customer_ids.is_empty() {
                request = request.customer_id(customer_ids.clone());
            }
            async move {
                let page = request.send().await?.into_inner();
                Ok((page.items, page.pagination))
            }
        };
        walk(fetch, page_size, policy, |user: &types::User| {
            (user.created_at, user.user_id)
        })
    }
}

/// The customers to stream: made by [`Client::all_customers`], consumed by
/// [`AllCustomers::stream`].
#[derive(Clone, Debug)]
#[must_use = "call .stream() to read the customers"]
pub struct AllCustomers<'a> {
    client: &'a Client,
    filter: Option<String>,
    customer_type: Option<types::CustomerType>,
    page_size: u32,
    policy: RetryPolicy,
}

impl<'a> AllCustomers<'a> {
    /// Only customers matching `text`, as `listCustomers` matches its `filter`.
    pub fn filter(mut self, text: impl Into<String>) -> Self {
        self.filter = Some(text.into());
        self
    }

    /// Only customers of this type.
    pub fn customer_type(mut self, customer_type: types::CustomerType) -> Self {
        self.customer_type = Some(customer_type);
        self
    }

    /// Customers per request (`limit`, 1..=1000; default [`DEFAULT_PAGE_SIZE`]).
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size;
        self
    }

    /// How page requests are retried (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The customers, each once, in list order (see the [module docs](self)).
    pub fn stream(self) -> BoxStream<'a, Result<types::Customer, ApiError>> {
        let Self {
            client,
            filter,
            customer_type,
            page_size,
            policy,
        } = self;
        let fetch = move |offset: i64, limit: u32, cursor: Option<String>| {
            let mut request = client
                .list_customers()
                .offset(offset)
                .limit(u64::from(limit));
            if let Some(cursor) = cursor {
                request = request.cursor(cursor);
            }
            if let Some(filter) = &filter {
                request = request.filter(filter.as_str());
            }
            if let Some(customer_type) = customer_type {
                request = request.customer_type(customer_type);
            }
            async move {
                let page = request.send().await?.into_inner();
                Ok((page.items, page.pagination))
            }
        };
        walk(fetch, page_size, policy, |customer: &types::Customer| {
            (customer.created_at, customer.customer_id)
        })
    }
}

/// Where an item sorts in a list: `createdAt`, then id.
type SortKey = (DateTime<Utc>, Uuid);

/// How far a stream has read.
struct Walk<F> {
    fetch: F,
    page_size: u32,
    policy: RetryPolicy,
    /// The `offset` of the next page (when the server gives no cursors).
    offset: i64,
    /// The `nextCursor` of the last page, for the next one.
    cursor: Option<String>,
    /// Whether the last page said it was the last (a cursor-giving server gives no cursor then).
    done: bool,
    /// The first page's `total`: how many items existed when the stream started.
    total: Option<i64>,
    /// The key of the last item yielded.
    last: Option<SortKey>,
}

/// Pages through a list with `fetch(offset, limit, cursor)`.
fn walk<'a, T, F, Fut>(
    fetch: F,
    page_size: u32,
    policy: RetryPolicy,
    key: fn(&T) -> SortKey,
) -> BoxStream<'a, Result<T, ApiError>>
where
    T: Send + 'a,
    F: Fn(i64, u32, Option<String>) -> Fut + Send + Sync + 'a,
    Fut: Future<Output = Result<(Vec<T>, types::Pagination), RawError>> + Send + 'a,
{
    let start = Walk {
        fetch,
        page_size,
        policy,
        offset: 0,
        cursor: None,
        done: false,
        total: None,
        last: None,
    };
    let pages = stream::try_unfold(start, move |mut walk| async move {
        loop {
            if walk.done || walk.total.is_some_and(|total| walk.offset >= total) {
                return Ok(None);
            }
            // With a cursor the page starts after it (`offset` 0 from there).
            let offset = if walk.cursor.is_some() {
                0
            } else {
                walk.offset
            };
            let (items, pagination) = retry::run(&walk.policy, || {
                (walk.fetch)(offset, walk.page_size, walk.cursor.clone())
            })
            .await?;
            let total = *walk.total.get_or_insert(pagination.total);
            if items.is_empty() {
                // Fewer items than `total` promised: nothing more to read.
                return Ok(None);
            }
            // Where this page sits in the whole list: what the server says for a cursor page.
            let offset = if walk.cursor.is_some() {
                pagination.offset
            } else {
                walk.offset
            };
            walk.offset = offset + i64::try_from(items.len()).unwrap_or(i64::MAX);
            match pagination.next_cursor {
                Some(next) => walk.cursor = Some(next),
                // The last page of a server that gives cursors; or one that gives none at all.
                None => walk.done = walk.cursor.is_some(),
            }
            let fresh = window(items, offset, total, &mut walk.last, key);
            if !fresh.is_empty() {
                return Ok(Some((fresh, walk)));
            }
        }
    });
    flatten(pages).boxed()
}

/// The items of a page taken at `offset` that a stream yields: those at positions below
/// `total`, and only those sorting after `last` (which is moved to the last one kept).
fn window<T>(
    items: Vec<T>,
    offset: i64,
    total: i64,
    last: &mut Option<SortKey>,
    key: fn(&T) -> SortKey,
) -> Vec<T> {
    let below_total = usize::try_from(total.saturating_sub(offset)).unwrap_or(0);
    let mut kept = Vec::with_capacity(items.len().min(below_total));
    for item in items.into_iter().take(below_total) {
        let item_key = key(&item);
        if last.is_none_or(|last| item_key > last) {
            *last = Some(item_key);
            kept.push(item);
        }
    }
    kept
}

fn flatten<'a, T: Send + 'a>(
    pages: impl Stream<Item = Result<Vec<T>, ApiError>> + Send + 'a,
) -> impl Stream<Item = Result<T, ApiError>> + Send + 'a {
    pages
        .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
        .try_flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64, id: u128) -> SortKey {
        (
            DateTime::from_timestamp(second, 0).expect("in range"),
            Uuid::from_u128(id),
        )
    }

    fn identity(key: &SortKey) -> SortKey {
        *key
    }

    #[test]
    fn window_stops_at_the_first_total() {
        let mut last = None;
        let page = vec![at(1, 1), at(2, 2), at(3, 3)];
        assert_eq!(
            window(page, 0, 2, &mut last, identity),
            [at(1, 1), at(2, 2)]
        );
        assert_eq!(last, Some(at(2, 2)));
        assert!(window(vec![at(4, 4)], 3, 2, &mut last, identity).is_empty());
    }

    #[test]
    fn window_skips_items_not_after_the_last_yielded() {
        // The second page shifted by one: its first item was the first page's last.
        let mut last = Some(at(2, 2));
        let page = vec![at(2, 2), at(3, 3), at(4, 4)];
        assert_eq!(
            window(page, 2, 10, &mut last, identity),
            [at(3, 3), at(4, 4)]
        );
        // Same createdAt: the id decides.
        let mut last = Some(at(5, 7));
        let page = vec![at(5, 6), at(5, 8)];
        assert_eq!(window(page, 0, 10, &mut last, identity), [at(5, 8)]);
    }
}
