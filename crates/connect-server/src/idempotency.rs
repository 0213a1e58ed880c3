//! Idempotency keys (`X-Idempotency-Key`), as the contract's section 1.3 describes them.
//!
//! A key is scoped to its tenant. Its first request runs; the outcome (the success body, or the
//! 4xx error with its status and body) is kept for [`KEY_LIFETIME`] and replayed to identical
//! retries, which run nothing. An identical request while the first is still running gets
//! `idempotency_key_locked`; the same key with a different request (method, path, query or body
//! bytes) gets `idempotency_key_mismatch`. 5xx outcomes are not kept, so a retry runs again.
//!
//! Memory is bounded per tenant, by [`Limits`]: at most [`KEYS_PER_TENANT`] keys and
//! [`KEPT_BYTES_PER_TENANT`] bytes. The bytes counted are what an entry really costs: the key,
//! the kept response as the JSON it is sent as, and [`ENTRY_OVERHEAD`] for the table's own
//! structures (a test fills a table to its bound and compares the process's memory). Expired
//! keys are dropped whenever the tenant's table is touched and by a sweep every minute
//! ([`IdempotencyKeys::sweep`]), so their memory comes back even from a tenant that went
//! quiet. When a bound is reached, the oldest completed keys are forgotten early, as many as
//! it takes (a retry of one of those would run again: the price of a bound); running keys are
//! never forgotten, and when every key is still running a new one is refused with
//! `idempotency_key_locked` until one finishes.
//!
//! Each tenant's table has its own lock: one tenant's writes never wait for another's. Its keys
//! are spread over 64 hash tables (`sharded.rs`), as the store's maps are, so that a growth,
//! which holds the lock, moves a 64th of them; completed keys wait for their expiry in a queue
//! that grows a chunk at a time (`ExpiryQueue`). With one table and one `VecDeque`, the
//! slowest claim among a million keyed writes into a tenant at its bounds (hundreds of
//! thousands of user-sized responses held) took 180-200 ms; now 7-17 ms (`benches/compare.rs`
//! prints it, with how many keys the table held).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use chrono::{DateTime, Duration, Utc};
use connect_api::ApiError;
use dropshot::ErrorStatusCode;
use spec_runtime::ErrorBody;

use crate::auth::Tenant;
use crate::clock::Clock;
use crate::sharded::ShardedMap;

/// How long an outcome is kept (the contract's 24 hours).
pub const KEY_LIFETIME: Duration = Duration::hours(24);

/// Keys per tenant, running or completed: a million keyed writes a day, 12 a second.
pub const KEYS_PER_TENANT: usize = 1_000_000;

/// Bytes of memory per tenant for kept responses, their keys and the table around them. A
/// user is about half a KiB of JSON, a customer with every field and 100 users at most about
/// 250 KiB.
pub const KEPT_BYTES_PER_TENANT: usize = 256 * 1024 * 1024;

/// What one entry costs beyond its key and its response bytes: its slot in the key map (with
/// the map's spare capacity), its node in the expiry index, the allocator's headers and
/// rounding, and the fragmentation that forgotten entries and requests' own allocations leave.
/// Under mimalloc, which the server runs on, an entry shaped like the API's (a user of about
/// 300 bytes of JSON, some errors) costs about 640 bytes in all, 300 of them beyond its key and
/// response; 384 leaves room for the fragmentation (the test
/// `the_idempotency_table_at_its_bound_costs_what_it_counts` fills a table to its bound, on
/// mimalloc, and compares the process's resident memory with what the table counts).
pub const ENTRY_OVERHEAD: usize = 384;

/// The bounds of one tenant's table.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub keys: usize,
    pub bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            keys: KEYS_PER_TENANT,
            bytes: KEPT_BYTES_PER_TENANT,
        }
    }
}

/// What a request is, for telling an identical retry from a different request under one key.
pub type Fingerprint = u64;

/// A kept outcome, as the JSON it was answered with: a success body, or an error's status and
/// body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success(Box<[u8]>),
    Failure {
        status: ErrorStatusCode,
        body: Box<[u8]>,
    },
}

impl Outcome {
    /// The outcome of a handler's result.
    pub fn of<T: serde::Serialize>(result: &Result<T, ApiError>) -> Self {
        match result {
            Ok(value) => Self::Success(json(value).expect("responses serialize")),
            Err(error) => Self::Failure {
                status: error.status(),
                body: json(error).expect("errors serialize"),
            },
        }
    }

    /// The result again: the same value, or the same error with the same body.
    pub fn replay<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        match self {
            Self::Success(bytes) => {
                Ok(serde_json::from_slice(bytes).expect("a kept response reads back as its type"))
            }
            Self::Failure { status, body } => {
                let body = match serde_json::from_slice(body) {
                    Ok(spec) => ErrorBody::Spec(spec),
                    Err(_) => ErrorBody::Json(
                        serde_json::from_slice(body).expect("a kept error body is JSON"),
                    ),
                };
                Err(ApiError::with_body(*status, body))
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Success(bytes) | Self::Failure { body: bytes, .. } => bytes.len(),
        }
    }

    fn server_error(&self) -> bool {
        matches!(self, Self::Failure { status, .. } if status.as_u16() >= 500)
    }
}

/// The JSON of `value`, written into this thread's scratch buffer, which keeps its room from
/// one outcome to the next, and copied out at its length: one allocation, of the size kept,
/// where `serde_json::to_vec` grows a vector from 128 bytes (twice for a user) and then shrinks
/// it to its length (a third copy).
fn json(value: &impl serde::Serialize) -> serde_json::Result<Box<[u8]>> {
    /// The room a thread's buffer keeps after an outcome: a customer with many users is a few
    /// hundred KiB, which the buffer gives back.
    const KEPT_ROOM: usize = 64 * 1024;
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SCRATCH.with(|scratch| {
        let Ok(mut scratch) = scratch.try_borrow_mut() else {
            // A value whose serialization keeps an outcome: not ours, but not a reason to fail.
            return serde_json::to_vec(value).map(Vec::into_boxed_slice);
        };
        scratch.clear();
        let written = serde_json::to_writer(&mut *scratch, value).map(|()| Box::from(&scratch[..]));
        if scratch.capacity() > KEPT_ROOM {
            *scratch = Vec::new();
        }
        written
    })
}

#[derive(Debug)]
enum Entry {
    Running {
        fingerprint: Fingerprint,
    },
    Done {
        fingerprint: Fingerprint,
        outcome: Outcome,
    },
}

/// A key, shared by the map and the expiry index.
type Key = Arc<str>;

/// One tenant's keys. A key is hashed once per request: the hash [`IdempotencyKeys::begin`]
/// finds it by is kept in the [`Guard`], which finds the entry again with it when the request
/// finishes.
#[derive(Debug, Default)]
struct TenantKeys {
    entries: ShardedMap<Key, Entry, RandomState>,
    /// Completed keys by expiry, oldest first: what to drop when they expire or room is needed.
    /// Keys complete in the order of the clock, so each one is appended (see
    /// [`ExpiryQueue::insert`]).
    expiry: ExpiryQueue,
    /// Bytes of the completed entries, as [`entry_bytes`] counts them.
    bytes: usize,
}

/// How many keys a chunk of the [`ExpiryQueue`] holds (32 bytes each).
const EXPIRY_CHUNK: usize = 4096;

/// Keys by expiry, oldest first, in chunks of [`EXPIRY_CHUNK`]: it grows a chunk at a time,
/// where one `VecDeque` of a tenant's keys doubled by copying all of them under the tenant's
/// lock (about 13 MB near the bounds). No chunk is empty.
#[derive(Debug, Default)]
struct ExpiryQueue {
    chunks: VecDeque<VecDeque<(DateTime<Utc>, Key)>>,
}

impl ExpiryQueue {
    fn front(&self) -> Option<&(DateTime<Utc>, Key)> {
        self.chunks.front().and_then(VecDeque::front)
    }

    fn pop_front(&mut self) -> Option<(DateTime<Utc>, Key)> {
        let chunk = self.chunks.front_mut()?;
        let first = chunk.pop_front();
        if chunk.is_empty() {
            self.chunks.pop_front();
        }
        first
    }

    /// Puts a key in its place, after those that expire at the same time: at the end, unless
    /// the clock went back (then in the chunk it falls in, which may grow past the size).
    fn insert(&mut self, expires_at: DateTime<Utc>, key: Key) {
        let last = |chunk: &VecDeque<(DateTime<Utc>, Key)>| chunk.back().map(|(at, _)| *at);
        match self.chunks.back_mut() {
            Some(chunk) if last(chunk).is_some_and(|last| last > expires_at) => {
                let index = self
                    .chunks
                    .partition_point(|chunk| last(chunk).is_some_and(|last| last <= expires_at));
                let chunk = &mut self.chunks[index];
                let at = chunk.partition_point(|(other, _)| *other <= expires_at);
                chunk.insert(at, (expires_at, key));
            }
            // The first chunk grows as a tenant's keys do; later ones are made whole.
            Some(chunk) if chunk.len() < EXPIRY_CHUNK => chunk.push_back((expires_at, key)),
            Some(_) => {
                let mut chunk = VecDeque::with_capacity(EXPIRY_CHUNK);
                chunk.push_back((expires_at, key));
                self.chunks.push_back(chunk);
            }
            None => self.chunks.push_back(VecDeque::from([(expires_at, key)])),
        }
    }

    /// Gives back the room of chunks (and of the list of them) that shrank to a quarter.
    fn shrink(&mut self) {
        for chunk in &mut self.chunks {
            if chunk.capacity() > 4 * chunk.len().max(16) {
                chunk.shrink_to(2 * chunk.len());
            }
        }
        if self.chunks.capacity() > 4 * self.chunks.len().max(16) {
            self.chunks.shrink_to(2 * self.chunks.len());
        }
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Room for keys, in the chunks.
    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.chunks.iter().map(VecDeque::capacity).sum()
    }
}

/// What a completed entry counts against [`Limits::bytes`].
fn entry_bytes(key: &str, outcome: &Outcome) -> usize {
    key.len() + outcome.len() + ENTRY_OVERHEAD
}

impl TenantKeys {
    fn purge_expired(&mut self, now: DateTime<Utc>) {
        while self
            .expiry
            .front()
            .is_some_and(|(expires_at, _)| *expires_at <= now)
        {
            self.forget_oldest();
        }
    }

    /// Forgets the completed key that expires first; false when there is none.
    fn forget_oldest(&mut self) -> bool {
        let Some((_, key)) = self.expiry.pop_front() else {
            return false;
        };
        if let Some(Entry::Done { outcome, .. }) = self.entries.remove(&*key) {
            self.bytes -= entry_bytes(&key, &outcome);
        }
        true
    }

    /// Takes a running entry out (the guard was dropped unfinished, or its request failed
    /// with a 5xx, which is not kept).
    fn release(&mut self, hash: u64, key: &str) {
        if matches!(
            self.entries.get_hashed(hash, key),
            Some(Entry::Running { .. })
        ) {
            self.entries.remove_hashed(hash, key);
        }
    }
}

/// What [`IdempotencyKeys::begin`] decided.
#[derive(Debug)]
pub enum Begin {
    /// Run the request, then call [`Guard::finish`].
    Run(Guard),
    /// An identical request completed before: answer with this.
    Replay(Outcome),
}

type Table = Arc<Mutex<TenantKeys>>;

/// The table of keys, for all tenants.
pub struct IdempotencyKeys {
    clock: Arc<dyn Clock>,
    hasher: RandomState,
    tenants: RwLock<HashMap<Tenant, Table>>,
    limits: Limits,
}

fn lock(table: &Mutex<TenantKeys>) -> MutexGuard<'_, TenantKeys> {
    table.lock().unwrap_or_else(PoisonError::into_inner)
}

impl IdempotencyKeys {
    pub fn new(clock: Arc<dyn Clock>) -> Arc<Self> {
        Self::with_limits(clock, Limits::default())
    }

    pub fn with_limits(clock: Arc<dyn Clock>, limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            clock,
            hasher: RandomState::new(),
            tenants: RwLock::new(HashMap::new()),
            limits,
        })
    }

    fn table(&self, tenant: &Tenant) -> Table {
        if let Some(table) = self
            .tenants
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(tenant)
        {
            return table.clone();
        }
        self.tenants
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(tenant.clone())
            .or_default()
            .clone()
    }

    fn tables(&self) -> Vec<Table> {
        self.tenants
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// The fingerprint of a request: method, path and query, the headers that change how it is
    /// processed (`Content-Type`), and the body bytes (`None` for a body that could not be read,
    /// which differs from every readable one, even an empty one).
    pub fn fingerprint(
        &self,
        method: &str,
        path_and_query: &str,
        content_type: Option<&[u8]>,
        body: Option<&[u8]>,
    ) -> Fingerprint {
        let mut hasher = self.hasher.build_hasher();
        for part in [method.as_bytes(), path_and_query.as_bytes()] {
            hasher.write_usize(part.len());
            hasher.write(part);
        }
        for part in [content_type, body] {
            match part {
                Some(bytes) => {
                    hasher.write_u8(1);
                    hasher.write_usize(bytes.len());
                    hasher.write(bytes);
                }
                None => hasher.write_u8(0),
            }
        }
        hasher.finish()
    }

    /// Claims `key` for a request, or says why not.
    pub fn begin(
        self: &Arc<Self>,
        tenant: &Tenant,
        key: &str,
        fingerprint: Fingerprint,
    ) -> Result<Begin, ApiError> {
        let now = self.clock.now();
        let table = self.table(tenant);
        let mut keys = lock(&table);
        keys.purge_expired(now);
        let hash = keys.entries.hash(key);
        match keys.entries.get_hashed(hash, key) {
            Some(Entry::Running {
                fingerprint: running,
            }) => {
                return Err(if *running == fingerprint {
                    locked()
                } else {
                    mismatch()
                });
            }
            Some(Entry::Done {
                fingerprint: done,
                outcome,
                ..
            }) => {
                return if *done == fingerprint {
                    Ok(Begin::Replay(outcome.clone()))
                } else {
                    Err(mismatch())
                };
            }
            None => {}
        }
        if keys.entries.len() >= self.limits.keys && !keys.forget_oldest() {
            return Err(locked());
        }
        let key: Key = Arc::from(key);
        keys.entries
            .get_or_insert_with_hashed(hash, key.clone(), || Entry::Running { fingerprint });
        drop(keys);
        Ok(Begin::Run(Guard {
            table: Some(table),
            keys: self.clone(),
            key,
            hash,
            fingerprint,
        }))
    }

    /// Forgets every expired key of every tenant, and gives back the room of a table that
    /// shrank to a quarter of it (neither the map nor the queue shrinks by itself). The server
    /// runs it every minute.
    pub fn sweep(&self) {
        let now = self.clock.now();
        for table in self.tables() {
            let mut keys = lock(&table);
            keys.purge_expired(now);
            keys.entries.shrink();
            keys.expiry.shrink();
        }
    }

    /// How many bytes a tenant's completed keys count against [`Limits::bytes`].
    pub fn kept_bytes(&self, tenant: &Tenant) -> usize {
        self.table(tenant).lock().map_or(0, |keys| keys.bytes)
    }

    /// How many keys a tenant holds (for tests of the bound and of reclamation).
    pub fn len(&self, tenant: &Tenant) -> usize {
        let now = self.clock.now();
        let table = self.table(tenant);
        let mut keys = lock(&table);
        keys.purge_expired(now);
        keys.entries.len()
    }
}

/// A claimed key. [`Guard::finish`] keeps the outcome; dropping the guard unfinished (the
/// handler panicked or was cancelled) releases the key so that a retry can run.
pub struct Guard {
    /// `None` once finished.
    table: Option<Table>,
    keys: Arc<IdempotencyKeys>,
    key: Key,
    /// The key's hash in its table.
    hash: u64,
    fingerprint: Fingerprint,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for IdempotencyKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdempotencyKeys")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Guard {
    pub fn finish(mut self, outcome: Outcome) {
        let Some(table) = self.table.take() else {
            return;
        };
        let mut keys = lock(&table);
        if outcome.server_error() {
            keys.release(self.hash, &self.key);
            return;
        }
        let expires_at = self.keys.clock.now() + KEY_LIFETIME;
        keys.expiry.insert(expires_at, self.key.clone());
        keys.bytes += entry_bytes(&self.key, &outcome);
        let done = Entry::Done {
            fingerprint: self.fingerprint,
            outcome,
        };
        // The running entry becomes the done one where it is (it is there unless a bound
        // forgot it, which never happens to a running key).
        match keys.entries.get_mut_hashed(self.hash, &*self.key) {
            Some(entry) => *entry = done,
            None => {
                keys.entries
                    .get_or_insert_with_hashed(self.hash, self.key.clone(), || done);
            }
        }
        // Over the byte budget: the oldest kept responses go first (this one, the newest, last).
        while keys.bytes > self.keys.limits.bytes && keys.forget_oldest() {}
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(table) = self.table.take() {
            lock(&table).release(self.hash, &self.key);
        }
    }
}

fn locked() -> ApiError {
    ApiError::with_code(
        ErrorStatusCode::CONFLICT,
        "idempotency_key_locked",
        "a request with this idempotency key is still being processed; retry later",
    )
}

fn mismatch() -> ApiError {
    ApiError::with_code(
        ErrorStatusCode::CONFLICT,
        "idempotency_key_mismatch",
        "this idempotency key was used for a different request; use a new key for a new request",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn setup(capacity: usize) -> (Arc<ManualClock>, Arc<IdempotencyKeys>, Tenant) {
        let clock = Arc::new(ManualClock::new(DateTime::UNIX_EPOCH));
        let keys = IdempotencyKeys::with_limits(
            clock.clone(),
            Limits {
                keys: capacity,
                bytes: usize::MAX,
            },
        );
        (clock, keys, Tenant("t".into()))
    }

    fn success(value: &serde_json::Value) -> Outcome {
        Outcome::Success(serde_json::to_vec(value).unwrap().into_boxed_slice())
    }

    fn run(
        keys: &Arc<IdempotencyKeys>,
        tenant: &Tenant,
        key: &str,
        fingerprint: Fingerprint,
    ) -> Guard {
        match keys.begin(tenant, key, fingerprint).expect("claimed") {
            Begin::Run(guard) => guard,
            Begin::Replay(_) => panic!("expected to run"),
        }
    }

    #[test]
    fn expired_keys_are_forgotten_and_their_memory_reclaimed() {
        let (clock, keys, tenant) = setup(10);
        run(&keys, &tenant, "k", 1).finish(success(&serde_json::json!(1)));
        clock.advance(KEY_LIFETIME - Duration::seconds(1));
        assert!(matches!(keys.begin(&tenant, "k", 1), Ok(Begin::Replay(_))));
        clock.advance(Duration::seconds(1));
        assert_eq!(keys.len(&tenant), 0);
        assert!(matches!(keys.begin(&tenant, "k", 2), Ok(Begin::Run(_))));
    }

    #[test]
    fn a_full_table_forgets_its_oldest_completed_key_and_never_a_running_one() {
        let (clock, keys, tenant) = setup(2);
        run(&keys, &tenant, "a", 1).finish(success(&serde_json::json!(1)));
        clock.advance(Duration::seconds(1));
        let _b = run(&keys, &tenant, "b", 1);
        // The table is full: "a", the oldest completed key, is forgotten to make room.
        let _c = run(&keys, &tenant, "c", 1);
        assert_eq!(keys.len(&tenant), 2);
        // Now every key is running: a new one is refused, and nothing is evicted.
        let error = keys
            .begin(&tenant, "a", 1)
            .expect_err("full of running keys");
        assert_eq!(error.spec_body().unwrap().code, "idempotency_key_locked");
        assert_eq!(keys.len(&tenant), 2);
    }

    #[test]
    fn the_byte_budget_forgets_the_oldest_kept_responses() {
        let clock = Arc::new(ManualClock::new(DateTime::UNIX_EPOCH));
        let keys = IdempotencyKeys::with_limits(
            clock.clone(),
            Limits {
                keys: 100,
                bytes: 2 * (101 + ENTRY_OVERHEAD) + 50,
            },
        );
        let tenant = Tenant("t".into());
        let body = serde_json::json!("x".repeat(98)); // 100 bytes of JSON, plus 1 of key
        for key in ["a", "b", "c"] {
            run(&keys, &tenant, key, 1).finish(success(&body));
            clock.advance(Duration::seconds(1));
        }
        // Three entries would be over the budget: "a" went, "b" and "c" stay.
        assert_eq!(keys.kept_bytes(&tenant), 2 * (101 + ENTRY_OVERHEAD));
        assert!(matches!(keys.begin(&tenant, "a", 2), Ok(Begin::Run(_))));
        assert!(matches!(keys.begin(&tenant, "b", 1), Ok(Begin::Replay(_))));
        assert!(matches!(keys.begin(&tenant, "c", 1), Ok(Begin::Replay(_))));
    }

    #[test]
    fn the_sweep_reclaims_a_quiet_tenants_expired_keys() {
        let (clock, keys, tenant) = setup(10_000);
        for key in 0..10_000 {
            run(&keys, &tenant, &key.to_string(), 1).finish(success(&serde_json::json!("kept")));
        }
        assert!(keys.kept_bytes(&tenant) > 0);
        clock.advance(KEY_LIFETIME);
        keys.sweep();
        assert_eq!(keys.kept_bytes(&tenant), 0);
        let table = keys.table(&tenant);
        let table = table.lock().unwrap();
        assert!(table.entries.len() == 0 && table.expiry.is_empty());
        // The room of 10,000 entries is given back too.
        assert!(
            table.entries.capacity() < 100,
            "{}",
            table.entries.capacity()
        );
        assert!(table.expiry.capacity() < 100, "{}", table.expiry.capacity());
    }

    #[test]
    fn keys_expire_in_the_order_of_their_expiry_when_the_clock_goes_back() {
        let (clock, keys, tenant) = setup(10);
        clock.advance(Duration::seconds(10));
        run(&keys, &tenant, "late", 1).finish(success(&serde_json::json!(1)));
        // The clock is set back (an NTP step): the next key expires before the first.
        clock.advance(Duration::seconds(-10));
        run(&keys, &tenant, "early", 1).finish(success(&serde_json::json!(2)));
        clock.advance(KEY_LIFETIME);
        assert_eq!(keys.len(&tenant), 1);
        assert!(matches!(
            keys.begin(&tenant, "late", 1),
            Ok(Begin::Replay(_))
        ));
        assert!(matches!(keys.begin(&tenant, "early", 1), Ok(Begin::Run(_))));
    }

    #[test]
    fn the_expiry_queue_keeps_keys_in_the_order_of_their_expiry() {
        // Against a sorted list: mostly in order, chunk after chunk, with the clock stepping
        // back now and then (into earlier chunks, and to before every key), and pops between.
        let mut queue = ExpiryQueue::default();
        let mut model: Vec<(DateTime<Utc>, Key)> = Vec::new();
        let mut clock = 0i64;
        for i in 0..3 * EXPIRY_CHUNK as i64 {
            clock += 1;
            let at = match i % 997 {
                0 => clock - 5_000,
                1 => -1,
                2 => clock - 3,
                _ => clock,
            };
            let at = DateTime::UNIX_EPOCH + Duration::seconds(at);
            let key: Key = Arc::from(i.to_string());
            queue.insert(at, key.clone());
            let place = model.partition_point(|(other, _)| *other <= at);
            model.insert(place, (at, key));
            if i % 7 == 0 {
                assert_eq!(queue.pop_front(), Some(model.remove(0)));
            }
            assert_eq!(queue.front(), model.first());
        }
        assert!(queue.chunks.len() > 1 && queue.chunks.iter().all(|c| !c.is_empty()));
        while let Some(first) = queue.pop_front() {
            assert_eq!(first, model.remove(0));
        }
        assert!(model.is_empty() && queue.is_empty());
    }

    #[test]
    fn an_outcome_is_the_json_of_its_result_whatever_came_before_on_its_thread() {
        // A large outcome (over the room the scratch buffer keeps), then smaller ones: each is
        // exactly its own JSON, nothing left over from the one before.
        let large = serde_json::json!({ "users": vec!["x".repeat(100); 1_000] });
        for value in [large, serde_json::json!({"a": 1}), serde_json::json!([])] {
            let expected = serde_json::to_vec(&value).unwrap().into_boxed_slice();
            assert_eq!(Outcome::of(&Ok(&value)), Outcome::Success(expected));
        }
        let error = ApiError::with_code(ErrorStatusCode::CONFLICT, "conflict", "taken");
        let Outcome::Failure { status, body } = Outcome::of::<()>(&Err(error.clone())) else {
            panic!("an error is kept as a failure");
        };
        assert_eq!(status, ErrorStatusCode::CONFLICT);
        assert_eq!(*body, *serde_json::to_vec(&error).unwrap());
    }

    #[test]
    fn an_unfinished_guard_releases_its_key() {
        let (_, keys, tenant) = setup(10);
        drop(run(&keys, &tenant, "k", 1));
        assert!(matches!(keys.begin(&tenant, "k", 2), Ok(Begin::Run(_))));
    }
}
