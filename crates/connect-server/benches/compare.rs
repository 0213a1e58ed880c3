//! What our layers cost on top of the frameworks, measured side by side in one run.
//!
//! `cargo bench -p connect-server --bench compare` (optionally `-- SECONDS USERS`: seconds per
//! measurement, default 3, and the size of the large tenant, default 1,000,000).
//!
//! Starts, in this process, a bare hyper server and a bare dropshot server that answer with the
//! same bytes as connect-server does for each case, for `GET /users/{id}` a dropshot server
//! whose handler returns a copy of the same `User` (dropshot serializes it, as it does for
//! connect-server), and connect-server itself at the default logging (one JSON line per
//! request, to a file) and at `warn`. A case's servers are measured in turn, in five rounds
//! (`BENCH_ROUNDS`) that start one server further each time, and a ratio is the median of the
//! rounds' ratios: each compares two measurements taken next to each other, so that what else
//! the machine does falls on both alike. A keyed POST is compared, in the same rounds, with the
//! same POST without a key; each round of a POST case writes into a fresh tenant. The two
//! headline ratios (GET by id, connect-server over bare dropshot; keyed over unkeyed POST) are
//! then measured again in `BENCH_PAIRS` (20) pairs of only their two servers, each pair four
//! measurements of a tenth of SECONDS in the order A B B A (B A A B every other pair), and
//! reported as the median of the pairs' ratios with the middle half and the range, so that the
//! report shows the measurement's own spread (see [`paired`]). Every server
//! runs on mimalloc, as the server's binary does. The servers run on a tokio
//! runtime of one worker thread and the load generator on another (so on a 2-core machine
//! each has a core); the load is closed-loop: 16 keep-alive connections, each sending its next
//! request when the answer to the last has arrived, over a minimal HTTP/1.1 client on raw
//! sockets so that the generator costs as little as possible. Every answer's status is checked.
//!
//! Cases: GET /users/{id}; POST /users without and with an idempotency key (a fresh key per
//! request); a list page of 100 in a tenant of 1,000 and of 1,000,000 users; a `filter`
//! matching one user of 1,000,000, and one matching all of them. Prints throughput, p50 and
//! p99 per server and the ratios to the bare servers (`BENCH_ONLY=GET` runs the cases whose name
//! contains `GET`), and the resident memory a stored user
//! costs (the process's growth while a tenant is created, divided by its users), without
//! metadata and with one entry. For GET and the keyed POST it also prints every round's ratio
//! beside their median; for the store, the slowest single create while the large tenant was
//! filled (a write that makes a map grow pays for the growth); and for the idempotency table,
//! the slowest claim of a key among as many keyed writes into one tenant, at the server's bounds.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use connect_server::auth::{ApiKeys, Tenant};
use connect_server::clock::SystemClock;
use connect_server::idempotency::{Begin, IdempotencyKeys, Limits, Outcome};
use connect_server::logging::{LogFormat, root_logger};
use connect_server::store::{InMemoryStore, Quotas, Store};
use connect_types as types;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The allocator the server's binary uses (`src/main.rs`); a process has one, so every server
/// here runs on it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONNECTIONS: usize = 16;
const KEY: &str = "bench-key";
/// How many tenants measurements of writes take one of, fresh (see [`fresh_key`]): one per round
/// of each of the two POST cases and one per pair of the keyed one's [`paired`] measurement.
fn fresh_tenants() -> usize {
    2 * rounds() + pairs()
}

/// The key of a tenant no measurement has written into yet: each round of a case of POSTs
/// writes into one of its own (all of the round's connect-server measurements into the same
/// one), so that no round's servers pay for growing a table that earlier rounds filled (a
/// tenant's user map doubling at a million users costs its writer a few hundred milliseconds,
/// which fell on whichever server's turn it was).
fn fresh_key() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let next = NEXT.fetch_add(1, Ordering::Relaxed);
    assert!(
        (next as usize) < fresh_tenants(),
        "more fresh tenants than configured"
    );
    format!("fresh-key-{next}")
}

/// A request as the load generator sends it: method, path, and the body (JSON), with or
/// without a fresh idempotency key per request.
#[derive(Clone)]
struct Request {
    method: &'static str,
    path: String,
    body: Option<String>,
    keyed: bool,
    /// The status every answer must have.
    status: u16,
}

impl Request {
    fn get(path: impl Into<String>) -> Self {
        Self {
            method: "GET",
            path: path.into(),
            body: None,
            keyed: false,
            status: 200,
        }
    }

    fn writes(&self) -> bool {
        self.method == "POST"
    }

    fn bytes(&self, key: &str, sequence: u64) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nhost: bench\r\nx-api-key: {key}\r\n",
            self.method, self.path
        );
        if self.keyed {
            head.push_str(&format!("x-idempotency-key: bench-{sequence}\r\n"));
        }
        match &self.body {
            Some(body) => {
                head.push_str(&format!(
                    "content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                ));
            }
            None => head.push_str("\r\n"),
        }
        head.into_bytes()
    }
}

/// What one measurement found.
struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    /// The throughput in each round (see [`interleaved`]); one round for a plain measurement.
    rounds: Vec<f64>,
}

impl Figures {
    fn of(mut latencies: Vec<Duration>, rounds: Vec<f64>, seconds: f64) -> Self {
        latencies.sort();
        let at =
            |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        Self {
            per_second: latencies.len() as f64 / seconds,
            p50: at(0.50),
            p99: at(0.99),
            rounds,
        }
    }

    /// This throughput over `base`'s: the median of the rounds' ratios, each of two
    /// measurements taken next to each other in time.
    fn ratio_to(&self, base: &Figures) -> f64 {
        let ratios = self.round_ratios(base);
        match ratios.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => ratios[n / 2],
            n => (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0,
        }
    }

    /// This throughput over `base`'s in each round, smallest first.
    fn round_ratios(&self, base: &Figures) -> Vec<f64> {
        let mut ratios: Vec<f64> = self
            .rounds
            .iter()
            .zip(&base.rounds)
            .map(|(a, b)| a / b)
            .collect();
        ratios.sort_by(f64::total_cmp);
        ratios
    }
}

/// How many rounds [`interleaved`] splits a measurement into (`BENCH_ROUNDS=1` measures each
/// target in one stretch, for profiling one).
fn rounds() -> usize {
    count_from_env("BENCH_ROUNDS", 5)
}

/// How many pairs [`paired`] measures (`BENCH_PAIRS`, default 20).
fn pairs() -> usize {
    count_from_env("BENCH_PAIRS", 20)
}

/// The positive count that the environment variable `name` sets, else `default`.
fn count_from_env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(default)
        .max(1)
}

/// One headline ratio measured in pairs (see [`paired`]): each pair's ratio, smallest first.
struct Paired {
    ratios: Vec<f64>,
}

impl Paired {
    /// The ratio at quantile `q` of the pairs' (the median at 0.5), interpolated between the two
    /// nearest pairs.
    fn at(&self, q: f64) -> f64 {
        let Some(last) = self.ratios.len().checked_sub(1) else {
            return f64::NAN;
        };
        let position = q * last as f64;
        let (below, above) = (position.floor() as usize, position.ceil() as usize);
        let weight = position - below as f64;
        self.ratios[below] * (1.0 - weight) + self.ratios[above] * weight
    }

    /// The median, the middle half and the range, as the report prints them.
    fn summary(&self) -> String {
        format!(
            "median {:.2}x, middle half {:.2}x-{:.2}x, range {:.2}x-{:.2}x over {} pairs",
            self.at(0.5),
            self.at(0.25),
            self.at(0.75),
            self.at(0.0),
            self.at(1.0),
            self.ratios.len()
        )
    }
}

/// `a`'s throughput over `b`'s, measured in [`pairs`] pairs of four short measurements of
/// `slice` seconds each, in the order A B B A (B A A B in every other pair), each pair's ratio
/// the sum of its two A's over its two B's. Only the two servers run, and each pair takes
/// about a second, so whatever else the machine does changes little within one; a change that
/// grows steadily through a pair (a tenant that the pair's writes fill, a neighbour's load
/// rising) falls on both sides alike, since both sit at the same mean position in it. The
/// pairs' ratios are independent measurements of the one ratio, so their spread is the
/// measurement's own. Writes to connect-server go into one fresh tenant per pair.
async fn paired(a: &Target<'_>, b: &Target<'_>, slice: f64) -> Paired {
    let mut ratios = Vec::new();
    for pair in 0..pairs() {
        let fresh = (a.fresh || b.fresh).then(fresh_key);
        let order = if pair % 2 == 0 {
            [0, 1, 1, 0]
        } else {
            [1, 0, 0, 1]
        };
        let mut answers = [0usize; 2];
        for side in order {
            let target = [a, b][side];
            let key = match (target.fresh, &fresh) {
                (true, Some(fresh)) => fresh.as_str(),
                _ => target.key,
            };
            answers[side] += measure(target.addr, target.request, key, slice, CONNECTIONS)
                .await
                .len();
        }
        ratios.push(answers[0] as f64 / answers[1] as f64);
    }
    ratios.sort_by(f64::total_cmp);
    Paired { ratios }
}

/// One thing a case measures: a server and the request sent to it.
struct Target<'a> {
    name: &'static str,
    addr: SocketAddr,
    request: &'a Request,
    key: &'a str,
    /// Whether it sends `key` or that of the round's fresh tenant (writes to connect-server).
    fresh: bool,
}

/// Measures every target for `seconds` in all, in [`rounds`] rounds that take each target in
/// turn (starting one further each round), so that whatever else the machine does in a
/// stretch of time falls on all of them alike; ratios then compare neighbours in time.
async fn interleaved(targets: &[Target<'_>], seconds: f64) -> Vec<Figures> {
    let rounds = rounds();
    let slice = seconds / rounds as f64;
    let mut samples: Vec<(Vec<Duration>, Vec<f64>)> =
        targets.iter().map(|_| (Vec::new(), Vec::new())).collect();
    for round in 0..rounds {
        let fresh = targets.iter().any(|t| t.fresh).then(fresh_key);
        for turn in 0..targets.len() {
            let index = (round + turn) % targets.len();
            let target = &targets[index];
            let key = match (target.fresh, &fresh) {
                (true, Some(fresh)) => fresh.clone(),
                _ => target.key.to_string(),
            };
            let latencies = measure(target.addr, target.request, &key, slice, CONNECTIONS).await;
            let (all, rounds) = &mut samples[index];
            rounds.push(latencies.len() as f64 / slice);
            all.extend(latencies);
        }
    }
    samples
        .into_iter()
        .map(|(latencies, rounds)| Figures::of(latencies, rounds, seconds))
        .collect()
}

/// Drives `addr` with the closed-loop load over `connections` connections for `seconds`
/// (after a short warm-up).
async fn drive_with(
    addr: SocketAddr,
    request: &Request,
    key: &str,
    seconds: f64,
    connections: usize,
) -> Figures {
    let latencies = measure(addr, request, key, seconds, connections).await;
    let per_second = latencies.len() as f64 / seconds;
    Figures::of(latencies, vec![per_second], seconds)
}

/// The latency of every answer [`drive_with`]'s load received in its measured time.
async fn measure(
    addr: SocketAddr,
    request: &Request,
    key: &str,
    seconds: f64,
    connections: usize,
) -> Vec<Duration> {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    // The connections' set-up and the first answers on them.
    let warm_up = Duration::from_millis(100);
    let started = Instant::now();
    let measure_from = started + warm_up;
    let end = measure_from + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let request = request.clone();
        let key = key.to_string();
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let mut buffer = Vec::with_capacity(64 * 1024);
            let mut latencies = Vec::new();
            loop {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                let bytes = request.bytes(&key, SEQUENCE.fetch_add(1, Ordering::Relaxed));
                stream.write_all(&bytes).await.expect("send");
                let status = read_response(&mut stream, &mut buffer).await;
                assert_eq!(
                    status,
                    request.status,
                    "{} {}: {}",
                    request.method,
                    request.path,
                    String::from_utf8_lossy(&buffer)
                );
                if now >= measure_from {
                    latencies.push(now.elapsed());
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("a connection task"));
    }
    latencies
}

/// Reads one response (headers, then `content-length` bytes of body) into `buffer`; its status.
async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> u16 {
    buffer.clear();
    let mut chunk = [0u8; 16 * 1024];
    let header_end = loop {
        if let Some(at) = find(buffer, b"\r\n\r\n") {
            break at + 4;
        }
        let read = stream.read(&mut chunk).await.expect("read");
        assert!(read > 0, "the server closed the connection");
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).to_ascii_lowercase();
    let status: u16 = head[9..12].parse().expect("a status");
    assert!(
        !head.contains("transfer-encoding: chunked"),
        "a chunked answer: {head}"
    );
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |value| value.trim().parse().expect("a content-length"));
    while buffer.len() < header_end + length {
        let read = stream.read(&mut chunk).await.expect("read");
        assert!(read > 0, "the server closed the connection");
        buffer.extend_from_slice(&chunk[..read]);
    }
    status
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The bytes connect-server answers `request` with: what the bare servers answer too.
async fn sample(addr: SocketAddr, request: &Request) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(&request.bytes(KEY, u64::MAX))
        .await
        .unwrap();
    let mut buffer = Vec::new();
    let status = read_response(&mut stream, &mut buffer).await;
    let at = find(&buffer, b"\r\n\r\n").unwrap() + 4;
    (status, buffer[at..].to_vec())
}

/// The answer the bare servers give: one status and body for every request.
#[derive(Clone)]
struct Fixed {
    status: u16,
    body: bytes::Bytes,
}

/// A bare hyper server answering every request with what `fixed` holds (reading the request
/// body first, as a real handler would).
async fn bare_hyper(fixed: Arc<std::sync::RwLock<Fixed>>) -> SocketAddr {
    use http_body_util::BodyExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            let fixed = fixed.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: hyper::Request<hyper::body::Incoming>| {
                        let fixed = fixed.clone();
                        async move {
                            let _ = request.into_body().collect().await;
                            let Fixed { status, body } = fixed.read().unwrap().clone();
                            hyper::Response::builder()
                                .status(status)
                                .header("content-type", "application/json")
                                .body(http_body_util::Full::new(body))
                        }
                    },
                );
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    addr
}

/// A bare dropshot server with the routes of the cases, each answering what `fixed` holds.
fn bare_dropshot(
    fixed: Arc<std::sync::RwLock<Fixed>>,
) -> dropshot::HttpServer<Arc<std::sync::RwLock<Fixed>>> {
    type Ctx = Arc<std::sync::RwLock<Fixed>>;
    fn answer(fixed: &Ctx) -> Result<http::Response<dropshot::Body>, dropshot::HttpError> {
        let Fixed { status, body } = fixed.read().unwrap().clone();
        Ok(http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body.into())
            .unwrap())
    }
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Id {
        #[allow(dead_code)]
        id: String,
    }
    #[dropshot::endpoint { method = GET, path = "/users/{id}" }]
    async fn get_user(
        rqctx: dropshot::RequestContext<Ctx>,
        _path: dropshot::Path<Id>,
    ) -> Result<http::Response<dropshot::Body>, dropshot::HttpError> {
        answer(rqctx.context())
    }
    #[dropshot::endpoint { method = GET, path = "/users" }]
    async fn list_users(
        rqctx: dropshot::RequestContext<Ctx>,
    ) -> Result<http::Response<dropshot::Body>, dropshot::HttpError> {
        answer(rqctx.context())
    }
    #[dropshot::endpoint { method = POST, path = "/users" }]
    async fn create_user(
        rqctx: dropshot::RequestContext<Ctx>,
        _body: dropshot::UntypedBody,
    ) -> Result<http::Response<dropshot::Body>, dropshot::HttpError> {
        answer(rqctx.context())
    }
    let mut api = dropshot::ApiDescription::new();
    api.register(get_user).unwrap();
    api.register(list_users).unwrap();
    api.register(create_user).unwrap();
    dropshot::ServerBuilder::new(api, fixed, connect_server::logging::discard())
        .config(dropshot::ConfigDropshot {
            bind_address: "127.0.0.1:0".parse().unwrap(),
            default_request_body_max_bytes: connect_server::REQUEST_BODY_MAX_BYTES,
            ..Default::default()
        })
        .start()
        .unwrap()
}

/// A dropshot server whose `GET /users/{id}` answers a copy of one `User` as a typed handler
/// does (`HttpResponseOk`, serialized by dropshot): dropshot's cost with the response's
/// serialization, and nothing of ours.
fn typed_dropshot(
    user: Arc<std::sync::RwLock<Option<types::User>>>,
) -> dropshot::HttpServer<Arc<std::sync::RwLock<Option<types::User>>>> {
    type Ctx = Arc<std::sync::RwLock<Option<types::User>>>;
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct Id {
        #[allow(dead_code)]
        id: String,
    }
    #[dropshot::endpoint { method = GET, path = "/users/{id}" }]
    async fn get_user(
        rqctx: dropshot::RequestContext<Ctx>,
        _path: dropshot::Path<Id>,
    ) -> Result<dropshot::HttpResponseOk<types::User>, dropshot::HttpError> {
        let user = rqctx.context().read().unwrap().clone();
        user.map(dropshot::HttpResponseOk)
            .ok_or_else(|| dropshot::HttpError::for_not_found(None, "no user yet".into()))
    }
    let mut api = dropshot::ApiDescription::new();
    api.register(get_user).unwrap();
    dropshot::ServerBuilder::new(api, user, connect_server::logging::discard())
        .config(dropshot::ConfigDropshot {
            bind_address: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        })
        .start()
        .unwrap()
}

/// connect-server over `store`, logging at `level` (JSON lines to a file, as deployed).
fn connect(
    store: Arc<InMemoryStore>,
    level: slog::Level,
    log_file: &std::path::Path,
) -> (
    dropshot::HttpServer<connect_server::ServerContext>,
    connect_server::logging::Logging,
) {
    let file = std::fs::File::create(log_file).unwrap();
    let logging = root_logger(LogFormat::Json, level, Box::new(file));
    let server = connect_server::start_with_store(
        connect_server::Config {
            tenants: logging.tenants.clone(),
            limits: connect_server::Limits {
                quotas: Quotas {
                    users: usize::MAX,
                    customers: usize::MAX,
                },
                ..Default::default()
            },
            ..connect_server::Config::new(
                "127.0.0.1:0".parse().unwrap(),
                ApiKeys::new(
                    [
                        ("bench".to_string(), KEY.to_string()),
                        ("small".to_string(), "small-key".to_string()),
                        ("large".to_string(), "large-key".to_string()),
                    ]
                    .into_iter()
                    .chain(
                        (0..fresh_tenants())
                            .map(|i| (format!("fresh-{i}"), format!("fresh-key-{i}"))),
                    ),
                ),
                Arc::new(SystemClock),
                logging.log.clone(),
            )
        },
        store,
    )
    .unwrap();
    (server, logging)
}

/// Creates `users` users in `tenant`, one after another, each with one metadata entry when
/// `metadata`; the longest any one of them took (a write that makes a map grow pays for the
/// growth).
async fn seed(store: &InMemoryStore, tenant: &str, users: usize, metadata: bool) -> Duration {
    let tenant = Tenant(tenant.into());
    let mut slowest = Duration::ZERO;
    for i in 0..users {
        let metadata = metadata.then(|| {
            types::Metadata(
                [(
                    "segment".to_string(),
                    format!("s{}", i % 10).parse().unwrap(),
                )]
                .into_iter()
                .collect(),
            )
        });
        let request = types::CreateUserRequest {
            name: format!("user {i}").parse().unwrap(),
            email: Some(format!("user{i}@example.com").parse().unwrap()),
            msisdn: None,
            identity: None,
            reference_id: None,
            metadata,
        };
        let started = Instant::now();
        store.create_user(&tenant, request).await.unwrap();
        slowest = slowest.max(started.elapsed());
    }
    slowest
}

/// Claims `claims` fresh idempotency keys in one tenant's table, at the server's bounds, one
/// after another, each keeping `response` as its outcome; the longest any one claim and its
/// finish took (a claim that makes the table grow pays for the growth, under the tenant's lock),
/// and how many keys the table held at the end.
fn fill_keys(claims: usize, response: &[u8]) -> (Duration, usize) {
    let keys = IdempotencyKeys::with_limits(Arc::new(SystemClock), Limits::default());
    let tenant = Tenant("keys".into());
    let mut slowest = Duration::ZERO;
    for i in 0..claims {
        let key = format!(
            "{:016x}-{i}",
            (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        );
        let outcome = Outcome::Success(response.into());
        let started = Instant::now();
        let Ok(Begin::Run(guard)) = keys.begin(&tenant, &key, i as u64) else {
            panic!("a fresh key runs");
        };
        guard.finish(outcome);
        slowest = slowest.max(started.elapsed());
    }
    (slowest, keys.len(&tenant))
}

/// The process's resident memory, in bytes, once mimalloc has given back what is free (it
/// returns freed pages to the system at its own pace, which would count memory freed before a
/// measurement as used, or memory freed during one as negative).
fn resident() -> usize {
    // SAFETY: a plain call into the allocator, which may be made at any time.
    unsafe { libmimalloc_sys::mi_collect(true) };
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let seconds: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(3.0);
    let large: usize = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);

    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("servers")
        .enable_all()
        .build()
        .unwrap();
    let load = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("load")
        .enable_all()
        .build()
        .unwrap();

    let fixed = Arc::new(std::sync::RwLock::new(Fixed {
        status: 200,
        body: bytes::Bytes::new(),
    }));
    let dir = std::env::temp_dir().join(format!("connect-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(InMemoryStore::with_quotas(
        Arc::new(SystemClock),
        Quotas {
            users: usize::MAX,
            customers: usize::MAX,
        },
    ));
    let started = Instant::now();
    let mut memory = (0.0, 0.0);
    let mut slowest_seed = Duration::ZERO;
    let typed_user = Arc::new(std::sync::RwLock::new(None));
    let (hyper_addr, dropshot_server, typed_server, info, warn) = servers.block_on(async {
        seed(&store, "small", 1_000, false).await;
        let before = resident();
        slowest_seed = seed(&store, "large", large, false).await;
        memory.0 = (resident() - before) as f64 / large as f64;
        let tagged = (large / 5).max(1);
        let before = resident();
        seed(&store, "tagged", tagged, true).await;
        memory.1 = (resident() - before) as f64 / tagged as f64;
        let hyper_addr = bare_hyper(fixed.clone()).await;
        let dropshot_server = bare_dropshot(fixed.clone());
        let typed_server = typed_dropshot(typed_user.clone());
        let info = connect(store.clone(), slog::Level::Info, &dir.join("info.log"));
        let warn = connect(store.clone(), slog::Level::Warning, &dir.join("warn.log"));
        (hyper_addr, dropshot_server, typed_server, info, warn)
    });
    eprintln!("seeded the tenants in {:.1?}", started.elapsed());
    let info_addr = info.0.local_addr();
    let warn_addr = warn.0.local_addr();
    let dropshot_addr = dropshot_server.local_addr();
    let typed_addr = typed_server.local_addr();

    let user = load.block_on(sample(
        info_addr,
        &Request {
            method: "POST",
            path: "/users".into(),
            body: Some(r#"{"name": "Ada Lovelace", "email": "ada@example.com"}"#.into()),
            keyed: false,
            status: 201,
        },
    ));
    let bytes = user.1;
    let user: types::User = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        serde_json::to_vec(&user).unwrap(),
        bytes,
        "the typed server answers the same bytes"
    );
    let id = user.user_id.to_string();
    let (slowest_claim, keys_held) = fill_keys(large, &bytes);
    *typed_user.write().unwrap() = Some(user);
    let post = |keyed| Request {
        method: "POST",
        path: "/users".into(),
        body: Some(r#"{"name": "Ada Lovelace", "email": "ada@example.com"}"#.into()),
        keyed,
        status: 201,
    };
    // (case, request, key, whether to run the bare servers and the warn-level server too)
    let cases: Vec<(&str, Request, &str, bool)> = vec![
        (
            "GET /users/{id}",
            Request::get(format!("/users/{id}")),
            KEY,
            true,
        ),
        ("POST /users", post(false), KEY, true),
        ("POST /users, keyed", post(true), KEY, true),
        (
            "list page, 1k users",
            Request::get("/users?limit=100"),
            "small-key",
            true,
        ),
        (
            "list page, large tenant",
            Request::get("/users?limit=100"),
            "large-key",
            true,
        ),
        (
            "filter matching 1 user, large tenant",
            Request::get(format!("/users?limit=100&filter=user%20{}", large / 2 + 7)),
            "large-key",
            false,
        ),
        (
            "filter matching every user, large tenant",
            Request::get("/users?limit=100&filter=user"),
            "large-key",
            false,
        ),
    ];
    // `BENCH_ONLY=GET` (say) runs the cases whose name contains it, for profiling one.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let mut report = Vec::new();
    let mut headlines: Vec<(&str, Paired)> = Vec::new();
    for (name, request, key, all) in cases.into_iter().filter(|(name, ..)| name.contains(&only)) {
        let (status, body) = load.block_on(sample(
            info_addr,
            &Request {
                keyed: false,
                ..request.clone()
            },
        ));
        assert_eq!(
            status,
            request.status,
            "{name}: {}",
            String::from_utf8_lossy(&body)
        );
        *fixed.write().unwrap() = Fixed {
            status,
            body: body.into(),
        };
        let unkeyed = Request {
            keyed: false,
            ..request.clone()
        };
        let target = |name, addr, request| Target {
            name,
            addr,
            request,
            key,
            // Writes to connect-server go to fresh tenants (the bare servers store nothing).
            fresh: Request::writes(request) && addr != hyper_addr && addr != dropshot_addr,
        };
        let mut targets = Vec::new();
        if all {
            targets.push(target("bare hyper", hyper_addr, &request));
            targets.push(target("bare dropshot", dropshot_addr, &request));
        }
        if name == "GET /users/{id}" {
            targets.push(target("dropshot, typed User", typed_addr, &request));
        }
        targets.push(target("connect-server", info_addr, &request));
        if all {
            targets.push(target("connect-server, warn", warn_addr, &request));
        }
        // A keyed write is compared with the same write without a key, in the same rounds.
        if request.keyed {
            targets.push(target("connect-server, no key", info_addr, &unkeyed));
        }
        let figures = load.block_on(interleaved(&targets, seconds));
        // The two headline ratios are measured again in pairs of only their two servers.
        let pair = |a: &str, b: &str| {
            let find = |which: &str| targets.iter().find(|t| t.name == which);
            find(a).zip(find(b))
        };
        let headline = match name {
            "GET /users/{id}" => pair("connect-server", "bare dropshot"),
            "POST /users, keyed" => pair("connect-server", "connect-server, no key"),
            _ => None,
        };
        if let Some((a, b)) = headline {
            let measured = load.block_on(paired(a, b, seconds / 10.0));
            headlines.push((name, measured));
        }
        let rows: Vec<(&str, Figures)> = targets.iter().map(|t| t.name).zip(figures).collect();
        report.push((name, rows));
    }

    // Writes into a tenant while others page a filter that scans all of it: the scan holds the
    // tenant's lock a chunk at a time, so the writes' latency is compared with writes alone.
    if only.is_empty() || "writes during scans".contains(&only) {
        let write = Request {
            method: "POST",
            path: "/users".into(),
            body: Some(r#"{"name": "Ada Lovelace"}"#.into()),
            keyed: false,
            status: 201,
        };
        let scan = Request::get("/users?limit=100&filter=user");
        let alone = load.block_on(drive_with(info_addr, &write, "large-key", seconds, 4));
        let (during, scans) = load.block_on(async {
            tokio::join!(
                drive_with(info_addr, &write, "large-key", seconds, 4),
                drive_with(info_addr, &scan, "large-key", seconds, 4),
            )
        });
        report.push((
            "POST /users into the large tenant (4 connections), alone and while 4 others page a filter matching all of it",
            vec![
                ("writes alone", alone),
                ("writes during scans", during),
                ("the scans", scans),
            ],
        ));
    }

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "\n{CONNECTIONS} connections, {seconds} s per server in {} interleaved rounds, loopback, closed loop",
        rounds()
    )
    .unwrap();
    for (name, rows) in &report {
        writeln!(out, "\n{name}").unwrap();
        let baseline = |which: &str| rows.iter().find(|(n, _)| *n == which).map(|(_, f)| f);
        for (server, figures) in rows {
            let mut ratios = String::new();
            for bare in ["bare hyper", "bare dropshot", "dropshot, typed User"] {
                if let Some(base) = baseline(bare)
                    && *server != bare
                {
                    ratios.push_str(&format!("  {:.2}x {bare}", figures.ratio_to(base)));
                }
            }
            writeln!(
                out,
                "  {server:<22} {:>9.0} req/s   p50 {:>9.1?}   p99 {:>9.1?}{ratios}",
                figures.per_second, figures.p50, figures.p99
            )
            .unwrap();
        }
    }
    let figures = |case: &str, server: &str| {
        report
            .iter()
            .find(|(n, _)| *n == case)
            .and_then(|(_, rows)| rows.iter().find(|(s, _)| *s == server))
            .map(|(_, f)| f)
    };
    let per_second =
        |case: &str, server: &str| figures(case, server).map_or(f64::NAN, |f| f.per_second);
    if let (Some(ours), Some(bare)) = (
        figures("GET /users/{id}", "connect-server"),
        figures("GET /users/{id}", "bare dropshot"),
    ) {
        let rounds: Vec<String> = ours
            .round_ratios(bare)
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect();
        writeln!(
            out,
            "\nGET by id, connect-server / bare dropshot, round by round: {} (median {:.2}x)",
            rounds.join(" "),
            ours.ratio_to(bare)
        )
        .unwrap();
    }
    let keyed = figures("POST /users, keyed", "connect-server");
    let unkeyed = figures("POST /users, keyed", "connect-server, no key");
    let keyed_rounds: Vec<String> = keyed
        .zip(unkeyed)
        .map(|(k, u)| k.round_ratios(u))
        .unwrap_or_default()
        .iter()
        .map(|r| format!("{r:.2}"))
        .collect();
    writeln!(
        out,
        "\nkeyed POST / unkeyed POST (connect-server, in the same rounds): {:.2}x (rounds: {})",
        keyed.zip(unkeyed).map_or(f64::NAN, |(k, u)| k.ratio_to(u)),
        keyed_rounds.join(" ")
    )
    .unwrap();
    for (case, measured) in &headlines {
        let ratio = match *case {
            "GET /users/{id}" => "GET by id, connect-server / bare dropshot",
            _ => "keyed POST / unkeyed POST",
        };
        writeln!(
            out,
            "{ratio}, in A-B-B-A pairs of {:.1} s measurements: {}",
            seconds / 10.0,
            measured.summary()
        )
        .unwrap();
    }
    writeln!(
        out,
        "list page, large / 1k tenant (connect-server): {:.2}x the throughput",
        per_second("list page, large tenant", "connect-server")
            / per_second("list page, 1k users", "connect-server")
    )
    .unwrap();
    writeln!(
        out,
        "resident memory per stored user: {:.0} B without metadata ({large} users), {:.0} B with one metadata entry ({} users)",
        memory.0,
        memory.1,
        (large / 5).max(1)
    )
    .unwrap();
    writeln!(
        out,
        "the slowest of the {large} creates that filled the large tenant (in the store, no HTTP): {slowest_seed:.1?}"
    )
    .unwrap();
    writeln!(
        out,
        "the slowest of {large} keyed writes' claims into one tenant's idempotency table at its bounds, each keeping a user (no HTTP): {slowest_claim:.1?} ({keys_held} keys held at the end)"
    )
    .unwrap();
    drop(out);
    servers.block_on(async {
        let _ = info.0.close().await;
        let _ = warn.0.close().await;
        let _ = dropshot_server.close().await;
        let _ = typed_server.close().await;
    });
    drop((info.1, warn.1));
    let _ = std::fs::remove_dir_all(&dir);
}
