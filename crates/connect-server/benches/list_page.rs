//! How much a list page costs as a tenant grows: 1,000 users against 1,000,000.
//!
//! `cargo bench -p connect-server --bench list_page` (optionally `-- 100000` for other sizes).
//! Prints the median latency of a 100-user page at the start, middle and end of the list, for
//! each tenant size, through the store and through HTTP, and of the last page taken by cursor,
//! with the ratio of the largest size to the smallest. A naive baseline (copy and sort the whole collection per request, what the
//! ordered index avoids) runs beside it on the same data, so figures are read as ratios on this
//! machine rather than as absolute times.

use std::sync::Arc;
use std::time::{Duration, Instant};

use connect_server::auth::{ApiKeys, Tenant};
use connect_server::clock::SystemClock;
use connect_server::store::{InMemoryStore, Listing, PageRequest, Quotas, Store, UserFilter};
use connect_types as types;

const PAGE: u64 = 100;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn time<F, Fut>(iterations: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f().await; // warm up
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        f().await;
        samples.push(started.elapsed());
    }
    median(samples)
}

struct Row {
    size: usize,
    store: [Duration; 3],
    http: [Duration; 3],
    naive: Duration,
    /// A `filter` page matching about a ninth of the tenant (through the trigram index).
    filtered: Duration,
    /// The last page, by cursor: through the store and through HTTP.
    cursor: [Duration; 2],
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 1_000_000]
    } else {
        sizes
    };
    let mut rows = Vec::new();
    for size in sizes {
        rows.push(measure(size).await);
    }
    println!("\nmedian latency of a {PAGE}-user page (start / middle / end of the list)");
    println!(
        "{:>10}  {:>32}  {:>32}  {:>24}  {:>14}  {:>14}",
        "users", "store", "HTTP (loopback)", "cursor: store / HTTP", "naive baseline", "filter"
    );
    for row in &rows {
        let fmt = |d: &[Duration; 3]| format!("{:?} / {:?} / {:?}", d[0], d[1], d[2]);
        println!(
            "{:>10}  {:>32}  {:>32}  {:>24}  {:>14?}  {:>14?}",
            row.size,
            fmt(&row.store),
            fmt(&row.http),
            format!("{:?} / {:?}", row.cursor[0], row.cursor[1]),
            row.naive,
            row.filtered
        );
    }
    if let (Some(small), Some(large)) = (rows.first(), rows.last()) {
        let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64();
        println!(
            "\n{} vs {} users: store page x{:.2} (end of list x{:.2}), HTTP page x{:.2}, cursor page x{:.2} (HTTP x{:.2}), naive baseline x{:.1}",
            large.size,
            small.size,
            ratio(small.store[0], large.store[0]),
            ratio(small.store[2], large.store[2]),
            ratio(small.http[0], large.http[0]),
            ratio(small.cursor[0], large.cursor[0]),
            ratio(small.cursor[1], large.cursor[1]),
            ratio(small.naive, large.naive),
        );
        println!(
            "at {} users the naive baseline is x{:.0} the store's page",
            large.size,
            ratio(large.store[0], large.naive)
        );
    }
}

async fn measure(size: usize) -> Row {
    let store = Arc::new(InMemoryStore::with_quotas(
        Arc::new(SystemClock),
        Quotas {
            users: size,
            customers: 0,
        },
    ));
    let tenant = Tenant("bench".into());
    let started = Instant::now();
    for i in 0..size {
        let request = types::CreateUserRequest {
            name: format!("user {i}").parse().unwrap(),
            email: Some(format!("user{i}@example.com").parse().unwrap()),
            msisdn: None,
            identity: None,
            reference_id: None,
            metadata: None,
        };
        store.create_user(&tenant, request).await.unwrap();
    }
    eprintln!("{size} users created in {:?}", started.elapsed());
    let iterations = 200;
    let offsets = [0, size as u64 / 2, (size as u64).saturating_sub(PAGE)];
    let mut store_times = [Duration::ZERO; 3];
    for (slot, offset) in offsets.iter().enumerate() {
        let page = PageRequest {
            limit: PAGE,
            offset: *offset,
            after: None,
        };
        store_times[slot] = time(iterations, || {
            let store = store.clone();
            let tenant = tenant.clone();
            async move {
                let page = store
                    .list_users(&tenant, &UserFilter::default(), page)
                    .await
                    .unwrap();
                assert_eq!(page.items.len() as u64, PAGE.min(size as u64));
            }
        })
        .await;
    }

    let filter = UserFilter {
        text: Some("USER 7".into()),
        customer_ids: Vec::new(),
    };
    let filtered = time(iterations.min(20), || {
        let (store, tenant, filter) = (store.clone(), tenant.clone(), filter.clone());
        async move {
            std::hint::black_box(
                store
                    .list_users(
                        &tenant,
                        &filter,
                        PageRequest {
                            limit: PAGE,
                            offset: 0,
                            after: None,
                        },
                    )
                    .await
                    .unwrap(),
            );
        }
    })
    .await;

    // The last page by cursor: after the item before it.
    let before_last = store
        .list_users(
            &tenant,
            &UserFilter::default(),
            PageRequest {
                limit: 1,
                offset: (size as u64).saturating_sub(PAGE + 1),
                after: None,
            },
        )
        .await
        .unwrap()
        .items
        .remove(0);
    let position = (before_last.created_at, before_last.user_id);
    let by_cursor = time(iterations, || {
        let (store, tenant) = (store.clone(), tenant.clone());
        async move {
            let page = store
                .list_users(
                    &tenant,
                    &UserFilter::default(),
                    PageRequest {
                        limit: PAGE,
                        offset: 0,
                        after: Some(position),
                    },
                )
                .await
                .unwrap();
            assert_eq!(page.items.len() as u64, PAGE.min(size as u64));
        }
    })
    .await;

    // The same pages through HTTP, on a server over this store.
    let server = connect_server::start_with_store(
        connect_server::Config::new(
            "127.0.0.1:0".parse().unwrap(),
            ApiKeys::new([("bench".to_string(), "bench-key".to_string())]),
            Arc::new(SystemClock),
            connect_server::logging::discard(),
        ),
        store.clone(),
    )
    .unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://{}", server.local_addr());
    let mut http_times = [Duration::ZERO; 3];
    for (slot, offset) in offsets.iter().enumerate() {
        let url = format!("{base}/users?limit={PAGE}&offset={offset}");
        http_times[slot] = time(iterations, || {
            let request = http.get(&url).header("X-API-Key", "bench-key");
            async move {
                let response = request.send().await.unwrap();
                assert!(response.status().is_success());
                response.bytes().await.unwrap();
            }
        })
        .await;
    }
    let cursor = server
        .app_private()
        .cursors
        .issue(&tenant, Listing::Users, position);
    let url = format!("{base}/users?limit={PAGE}&cursor={cursor}");
    let http_cursor = time(iterations, || {
        let request = http.get(&url).header("X-API-Key", "bench-key");
        async move {
            let response = request.send().await.unwrap();
            assert!(response.status().is_success());
            response.bytes().await.unwrap();
        }
    })
    .await;
    server.close().await.unwrap();

    // Baseline: what a store without an ordered index does per request: gather every user,
    // sort by (createdAt, id), slice a page (gathering references only, so it is a floor).
    let everything = store
        .list_users(
            &tenant,
            &UserFilter::default(),
            PageRequest {
                limit: u64::MAX,
                offset: 0,
                after: None,
            },
        )
        .await
        .unwrap()
        .items;
    let naive = time(iterations.min(20), || {
        let mut all: Vec<&types::User> = everything.iter().collect();
        async move {
            all.sort_by_key(|u| (u.created_at, u.user_id));
            std::hint::black_box(
                all.iter()
                    .take(PAGE as usize)
                    .map(|u| (*u).clone())
                    .collect::<Vec<_>>(),
            );
        }
    })
    .await;
    Row {
        size,
        store: store_times,
        http: http_times,
        naive,
        filtered,
        cursor: [by_cursor, http_cursor],
    }
}
