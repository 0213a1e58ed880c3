//! Pagination of both lists: bounds, the true total, and a stable order (`createdAt`, then id).

use chrono::Duration;
use connect_client::Client;
use serde_json::{Value, json};

use crate::common::*;

#[derive(Clone, Copy, Debug)]
enum List {
    Users,
    Customers,
}

const LISTS: [List; 2] = [List::Users, List::Customers];

impl List {
    fn id(self) -> &'static str {
        match self {
            List::Users => "userId",
            List::Customers => "customerId",
        }
    }

    async fn create(self, client: &Client, name: &str) -> Value {
        match self {
            List::Users => json(&user(client, name).await),
            List::Customers => json(&customer(client, name).await),
        }
    }

    /// One page: its items and its `pagination`.
    async fn page(
        self,
        client: &Client,
        limit: Option<u64>,
        offset: Option<i64>,
        filter: Option<&str>,
    ) -> (Vec<Value>, Value) {
        let page = match self {
            List::Users => {
                let mut request = client.list_users();
                if let Some(limit) = limit {
                    request = request.limit(limit);
                }
                if let Some(offset) = offset {
                    request = request.offset(offset);
                }
                if let Some(filter) = filter {
                    request = request.filter(filter);
                }
                json(&expect_ok(request.send().await, 200).into_inner())
            }
            List::Customers => {
                let mut request = client.list_customers();
                if let Some(limit) = limit {
                    request = request.limit(limit);
                }
                if let Some(offset) = offset {
                    request = request.offset(offset);
                }
                if let Some(filter) = filter {
                    request = request.filter(filter);
                }
                json(&expect_ok(request.send().await, 200).into_inner())
            }
        };
        (
            page["items"].as_array().unwrap().clone(),
            page["pagination"].clone(),
        )
    }
}

fn ids(items: &[Value], list: List) -> Vec<Value> {
    items.iter().map(|item| item[list.id()].clone()).collect()
}

#[tokio::test]
async fn limit_1_and_1000_offset_past_the_end_and_the_true_total() {
    let (h, clock) = Harness::start_with_manual_clock().await;
    let acme = h.client(Acme);
    for list in LISTS {
        let mut created = Vec::new();
        for i in 0..7 {
            created.push(list.create(&acme, &format!("{list:?} {i}")).await[list.id()].clone());
            clock.advance(Duration::seconds(1));
        }
        // Creation order, one page of one at a time.
        for (offset, id) in created.iter().enumerate() {
            let (items, pagination) = list.page(&acme, Some(1), Some(offset as i64), None).await;
            assert_eq!(
                ids(&items, list),
                std::slice::from_ref(id),
                "{list:?} at {offset}"
            );
            let mut pagination = pagination;
            let next = pagination.as_object_mut().unwrap().remove("nextCursor");
            assert_eq!(
                pagination,
                json!({"total": 7, "limit": 1, "offset": offset,
                       "sort": {"key": "createdAt", "direction": "ASC"}})
            );
            // A cursor for the page after, except after the last item.
            assert_eq!(next.is_some(), offset < 6, "{list:?} at {offset}");
        }
        let (items, pagination) = list.page(&acme, Some(1000), None, None).await;
        assert_eq!(ids(&items, list), created);
        assert_eq!(
            (pagination["limit"].clone(), pagination["offset"].clone()),
            (json!(1000), json!(0))
        );
        for offset in [7, 8, 1_000_000] {
            let (items, pagination) = list.page(&acme, Some(3), Some(offset), None).await;
            assert!(items.is_empty(), "{list:?} past the end at {offset}");
            assert_eq!(pagination["total"], 7, "the total is the whole list's");
        }
        // Filtered: the total counts every match, not the page.
        let (items, pagination) = list.page(&acme, Some(2), Some(1), Some(" 1")).await;
        assert_eq!(pagination["total"], 1);
        assert!(items.is_empty());
        let (items, pagination) = list
            .page(&acme, Some(2), Some(0), Some(&format!("{list:?}")))
            .await;
        assert_eq!((items.len(), pagination["total"].clone()), (2, json!(7)));
    }
    h.finish().await;
}

#[tokio::test]
async fn equal_created_at_is_ordered_by_id_and_pages_tile_the_list() {
    // The clock does not move: every object has the same `createdAt`.
    let (h, _clock) = Harness::start_with_manual_clock().await;
    let acme = h.client(Acme);
    for list in LISTS {
        let mut created = Vec::new();
        for i in 0..12 {
            created.push(list.create(&acme, &format!("{i}")).await[list.id()].clone());
        }
        let mut by_id = created.clone();
        by_id.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        let (all, _) = list.page(&acme, None, None, None).await;
        assert_eq!(ids(&all, list), by_id, "{list:?}: ties are ordered by id");
        let mut tiled = Vec::new();
        for offset in (0..12).step_by(5) {
            let (items, _) = list.page(&acme, Some(5), Some(offset), None).await;
            tiled.extend(ids(&items, list));
        }
        assert_eq!(tiled, by_id, "{list:?}: pages tile the list");
        // And again: the order is stable between calls.
        let (again, _) = list.page(&acme, None, None, None).await;
        assert_eq!(again, all);
    }
    h.finish().await;
}

#[tokio::test]
async fn without_limit_a_page_has_at_most_100() {
    let h = Harness::start().await;
    let acme = h.client(Acme);
    for i in 0..101 {
        user(&acme, &format!("U{i}")).await;
    }
    let (items, pagination) = List::Users.page(&acme, None, None, None).await;
    assert_eq!(items.len(), 100);
    assert_eq!(
        (
            pagination["total"].clone(),
            pagination["limit"].clone(),
            pagination["offset"].clone()
        ),
        (json!(101), json!(100), json!(0))
    );
    let (items, _) = List::Users.page(&acme, None, Some(100), None).await;
    assert_eq!(items.len(), 1);
    h.finish().await;
}
