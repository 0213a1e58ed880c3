//! The idempotency table's bound holds in real memory: filled to its bound, the process grows
//! by about what the table counts. (Its own test binary, so that no other test allocates
//! beside it while the process's resident memory is read, and so that it runs on the server
//! binary's allocator, mimalloc.)

#![cfg(target_os = "linux")]

use std::sync::Arc;

use connect_server::auth::Tenant;
use connect_server::clock::SystemClock;
use connect_server::idempotency::{Begin, IdempotencyKeys, Limits, Outcome};
use serde_json::json;

/// The server binary's allocator (`src/main.rs`): what an entry costs is what it costs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The process's resident memory, in bytes, once mimalloc has given back what is free (it
/// returns freed pages at its own pace).
fn resident() -> usize {
    // SAFETY: a plain call into the allocator, which may be made at any time.
    unsafe { libmimalloc_sys::mi_collect(true) };
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: usize = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kib * 1024
}

#[test]
fn the_idempotency_table_at_its_bound_costs_what_it_counts() {
    const BOUND: usize = 96 * 1024 * 1024;
    let keys = IdempotencyKeys::with_limits(
        Arc::new(SystemClock),
        Limits {
            keys: usize::MAX,
            bytes: BOUND,
        },
    );
    let tenant = Tenant("t".into());
    // Outcomes shaped like the API's: a user of a few hundred bytes of JSON, some errors.
    let outcome = |i: usize| -> Outcome {
        if i.is_multiple_of(10) {
            Outcome::of::<()>(&Err(connect_api::ApiError::with_code(
                dropshot::ErrorStatusCode::CONFLICT,
                "conflict",
                format!("a user with referenceId \"crm-{i}\" already exists"),
            )))
        } else {
            Outcome::of(&Ok(json!({
                "userId": uuid::Uuid::new_v4(),
                "name": format!("User number {i}"),
                "email": format!("user{i}@example.com"),
                "msisdn": "+15551234567",
                "referenceId": format!("crm-user-{i}"),
                "customerIds": [],
                "customers": [],
                "metadata": { "segment": "enterprise", "n": i.to_string() },
                "createdAt": "2026-01-15T09:30:00.123456789Z",
                "updatedAt": "2026-01-15T09:30:00.123456789Z",
            })))
        }
    };
    let before = resident();
    let mut entries = 0usize;
    // Fill to the bound, then as much again, so that the oldest are forgotten to make room.
    let mut i = 0;
    let mut reached = None;
    loop {
        let key = uuid::Uuid::new_v4().to_string();
        let outcome = outcome(i);
        let Ok(Begin::Run(guard)) = keys.begin(&tenant, &key, i as u64) else {
            panic!("a fresh key runs");
        };
        guard.finish(outcome);
        i += 1;
        if reached.is_none() && keys.kept_bytes(&tenant) + 2048 > BOUND {
            reached = Some(i);
            entries = keys.len(&tenant);
        }
        if reached.is_some_and(|at| i >= 2 * at) {
            break;
        }
    }
    let counted = keys.kept_bytes(&tenant);
    let grown = resident().saturating_sub(before);
    let now = keys.len(&tenant);
    let ratio = grown as f64 / counted as f64;
    println!(
        "{entries} entries at the bound ({now} after refilling): counted {counted} B, resident memory grew {grown} B, ratio {ratio:.3}; {:.0} B an entry",
        grown as f64 / now as f64
    );
    assert!(counted <= BOUND && counted > BOUND - 4096, "{counted}");
    assert!(
        ratio <= 1.25,
        "the table costs {ratio:.2}x what it counts against its bound"
    );
    // And it does not count much more than it costs (the bound would be needlessly small).
    assert!(
        ratio >= 0.75,
        "the table counts {:.2}x what it costs",
        1.0 / ratio
    );
    drop(keys);
}
