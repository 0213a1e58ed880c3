//! Paging: every item of a list as one [`Stream`], page by page.
//!
//! The streams themselves (a method of [`Client`] and a builder with the list's filters, for
//! every list the spec marks `x-paged: true`) are generated from the spec; this module is the
//! walk they share, and names no operation.
//!
//! Lists are ordered by `createdAt`, then id, ascending (the contract's section 1.4), so
//! objects created while a stream runs sort after every object that existed when it started.
//! A stream reads the first page's `total` and yields exactly the objects at positions below it:
//! every object that existed when it started, each once, in list order; objects created later
//! are left for the next stream. Pages after the first are asked for by the `nextCursor` the
//! server gives (it continues right after the last item seen, so nothing shifts a page); a
//! server that gives none is paged by `offset`.
//!
//! With a filter, a change made during the walk (a rename, a link added or removed) can move an
//! older object into or out of the matches: no other object is missed or repeated, but the
//! object that changed may be.
//!
//! Each page is fetched through the stream's [`RetryPolicy`] (reads carry no idempotency key).
//! The first error ends the stream, after being yielded.
//!
//! [`Client`]: crate::Client

use std::future::Future;

use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};

use crate::error::{ApiError, RawError};
use crate::retry::{self, RetryPolicy};

/// Page size when none is given: the API's own default `limit`.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// One page, as the generated streams read it from a list's body (where each part is, the
/// spec's paging convention says).
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    /// How many items the list has.
    pub total: i64,
    /// Where a page asked for by cursor starts in the whole list.
    pub position: Option<i64>,
    /// What to pass as the next page's cursor; none on the last page.
    pub next_cursor: Option<String>,
}

/// How far a stream has read.
struct Walk<F> {
    fetch: F,
    page_size: u32,
    policy: RetryPolicy,
    /// The position of the next item in the whole list.
    offset: i64,
    /// The `nextCursor` of the last page, for the next one.
    cursor: Option<String>,
    /// Whether the last page said it was the last (a cursor-giving server gives no cursor then).
    done: bool,
    /// The first page's `total`: how many items existed when the stream started.
    total: Option<i64>,
}

/// Pages through a list with `fetch(offset, limit, cursor)`.
pub(crate) fn walk<'a, T, F, Fut>(
    fetch: F,
    page_size: u32,
    policy: RetryPolicy,
) -> BoxStream<'a, Result<T, ApiError>>
where
    T: Send + 'a,
    F: Fn(i64, u32, Option<String>) -> Fut + Send + Sync + 'a,
    Fut: Future<Output = Result<Page<T>, RawError>> + Send + 'a,
{
    let start = Walk {
        fetch,
        page_size,
        policy,
        offset: 0,
        cursor: None,
        done: false,
        total: None,
    };
    let pages = stream::try_unfold(start, move |mut walk| async move {
        if walk.done || walk.total.is_some_and(|total| walk.offset >= total) {
            return Ok(None);
        }
        // With a cursor the page starts after it (`offset` 0 from there).
        let offset = if walk.cursor.is_some() {
            0
        } else {
            walk.offset
        };
        let page = retry::run(&walk.policy, || {
            (walk.fetch)(offset, walk.page_size, walk.cursor.clone())
        })
        .await?;
        let total = *walk.total.get_or_insert(page.total);
        if page.items.is_empty() {
            // Fewer items than `total` promised: nothing more to read.
            return Ok(None);
        }
        // Where this page sits in the whole list: what the server says for a cursor page.
        let offset = match (&walk.cursor, page.position) {
            (Some(_), Some(position)) => position,
            _ => walk.offset,
        };
        walk.offset = offset.saturating_add(i64::try_from(page.items.len()).unwrap_or(i64::MAX));
        match page.next_cursor {
            Some(next) => walk.cursor = Some(next),
            // The last page of a server that gives cursors; or one that gives none at all.
            None => walk.done = walk.cursor.is_some(),
        }
        Ok(Some((window(page.items, offset, total), walk)))
    });
    flatten(pages).boxed()
}

/// The items of a page taken at `offset` that a stream yields: those at positions below
/// `total`.
fn window<T>(mut items: Vec<T>, offset: i64, total: i64) -> Vec<T> {
    let below_total = usize::try_from(total.saturating_sub(offset)).unwrap_or(0);
    items.truncate(below_total);
    items
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

    #[test]
    fn window_stops_at_the_first_total() {
        assert_eq!(window(vec![1, 2, 3], 0, 2), [1, 2]);
        assert_eq!(window(vec![4, 5], 3, 4), [4]);
        assert!(window(vec![6], 4, 2).is_empty());
    }

    /// A list of `len` numbers served by offset, growing by one item per page fetched.
    fn growing(
        len: i64,
    ) -> impl Fn(i64, u32, Option<String>) -> std::future::Ready<Result<Page<i64>, RawError>> {
        let fetched = std::sync::atomic::AtomicI64::new(0);
        move |offset, limit, cursor| {
            assert!(cursor.is_none());
            let total = len + fetched.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let items = (offset..total.min(offset + i64::from(limit))).collect();
            std::future::ready(Ok(Page {
                items,
                total,
                position: None,
                next_cursor: None,
            }))
        }
    }

    #[tokio::test]
    async fn offset_pages_yield_what_existed_at_the_start() {
        let items: Vec<i64> = walk(growing(7), 3, RetryPolicy::never())
            .try_collect()
            .await
            .unwrap();
        assert_eq!(items, (0..7).collect::<Vec<_>>());
    }
}
