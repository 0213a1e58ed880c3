//! The server's logs: one line per request, never lost without saying so, secrets redacted.
//!
//! Dropshot writes one record for every request it completes (`request completed`: `method`,
//! `uri`, `status`, `latency_us`, `req_id`, `remote_addr`), including those no handler saw
//! (404, 405); `local_addr`, the same on every line, is left out (the server logs it once, as
//! it starts).
//! That record is the request line; the handler adds what only it knows, the tenant, through
//! [`RequestTenants`], and notes its peer there too (as an address, so that the writer formats
//! it rather than the request's thread). Dropshot's per-connection record is demoted to debug,
//! so that `info` means exactly one line per request.
//!
//! A record is captured on the thread that logs it and formatted by one writer thread, as
//! slog-async does: the logging thread copies the record's own fields and the logger's values
//! (dropshot's per-request `req_id`, `method`, `uri`; `remote_addr` only for a request that no
//! handler noted) as text into a buffer it reuses, and takes a request line's note from the
//! table; the writer formats the line and
//! writes a batch with one `write` every 20 ms, or as soon as [`FLUSH_LINES`] wait. (The writer
//! shares no lock with the handlers.) Copying the values costs less than handing the writer a
//! reference to them: what they own would then be freed on the writer's thread, and a free
//! from another thread than the allocating one cost the request thread more (in the
//! allocator's bookkeeping) than the whole capture does now.
//! At most [`LOG_BUFFER_LINES`] records (and [`LOG_BUFFER_BYTES`] of their fields) wait; when
//! the output cannot keep up, new lines are dropped and counted, and the writer then says how
//! many: `log lines dropped` with `dropped: N` (a line is never lost silently).
//!
//! In every URI, the values of query parameters whose names look like secrets (`api_key`,
//! `token`, `password`, `signature`, ...: see [`is_secret_name`]) are replaced by `REDACTED`.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use slog::{Drain, KV, Key, Level, OwnedKVList, Record, Serializer};

/// Output format of the logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Bunyan-compatible JSON, one object per line.
    Json,
    /// `TIME LEVEL message key=value ...`, for people.
    Terminal,
}

/// How many records may wait for the writer before new lines are dropped (and counted).
pub const LOG_BUFFER_LINES: usize = 32 * 1024;
/// How many bytes of the waiting records' fields (a request line's status and latency, and
/// the logger's values: its id, method, URI and peer) may wait before new lines are dropped.
pub const LOG_BUFFER_BYTES: usize = 8 * 1024 * 1024;

/// How many records wait before the writer is woken early.
const FLUSH_LINES: usize = 256;
/// How many bytes of formatted lines the writer collects before it writes them.
const WRITE_BYTES: usize = 64 * 1024;
/// How long a line may wait at most (when fewer than [`FLUSH_LINES`] wait).
const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(20);

/// Dropshot's message for a completed request: the request line.
const REQUEST_COMPLETED: &str = "request completed";
/// Dropshot's message for a request whose client hung up before the response.
const REQUEST_CANCELLED: &str = "request handling cancelled (client disconnected)";
/// Dropshot's message for each new connection: debug, not info.
const CONNECTION_ACCEPTED: &str = "accepted connection";
/// Dropshot's message when `accept` fails; at the connection cap it fails every 100 ms, so
/// one line in [`REPEATS_EVERY`] says it, with how many were left out since the last.
const ACCEPT_ERROR: &str = "accept error";
const REPEATS_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// The tenant of each request in flight, from its handler to its request line.
#[derive(Debug, Default)]
pub struct RequestTenants {
    /// False when nothing writes request lines (a level above info, or no logs at all): then
    /// nothing is noted and nothing waits for a line that will not come.
    enabled: bool,
    /// Keyed by dropshot's ids (never a client's), hashed with foldhash.
    tenants: Mutex<HashMap<RequestId, Noted, foldhash::fast::RandomState>>,
}

/// What a handler notes for its request line.
#[derive(Debug)]
struct Noted {
    tenant: Arc<str>,
    /// The peer, as an address rather than the text dropshot's logger would format: the writer
    /// formats it, off the request's thread (formatting an address was a fifth of a request
    /// line's capture).
    remote: SocketAddr,
}

/// A request's id as a table key: dropshot's ids are UUIDs, whose 36 characters are kept
/// inline (no allocation, and no parsing: reading the hex cost more than hashing the text);
/// any other id as its text.
#[derive(Debug, PartialEq, Eq, Hash)]
enum RequestId {
    Uuid([u8; 36]),
    Other(String),
}

impl RequestId {
    fn of(id: &str) -> Self {
        match <[u8; 36]>::try_from(id.as_bytes()) {
            Ok(text) => Self::Uuid(text),
            Err(_) => Self::Other(id.to_string()),
        }
    }
}

impl RequestTenants {
    /// A table whose entries no request line takes: notes are ignored.
    pub fn disabled() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Records the tenant of the request `request_id` and its peer, for its request line.
    pub fn note(&self, request_id: &str, tenant: &Arc<str>, remote: SocketAddr) {
        if self.enabled {
            let id = RequestId::of(request_id);
            let tenant = tenant.clone();
            self.lock().insert(id, Noted { tenant, remote });
        }
    }

    fn take(&self, request_id: RequestId) -> Option<Noted> {
        if self.enabled {
            self.lock().remove(&request_id)
        } else {
            None
        }
    }

    /// Requests noted whose line has not been written yet (requests in flight).
    pub fn pending(&self) -> usize {
        self.lock().len()
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<RequestId, Noted, foldhash::fast::RandomState>> {
        self.tenants.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The root logger and what comes with it.
pub struct Logging {
    pub log: slog::Logger,
    /// For the server's handlers: where they note each request's tenant.
    pub tenants: Arc<RequestTenants>,
    /// Flushes and stops the writer when dropped; keep it until the process is done logging.
    pub guard: LogGuard,
}

/// Logs at `level` and above, in `format`, to `output` (stderr for the server).
pub fn root_logger(format: LogFormat, level: Level, output: Box<dyn Write + Send>) -> Logging {
    let sink = Arc::new(Sink {
        state: Mutex::new(SinkState::default()),
        wake: Condvar::new(),
        lines: LOG_BUFFER_LINES,
        bytes: LOG_BUFFER_BYTES,
    });
    let tenants = Arc::new(RequestTenants {
        enabled: Level::Info.is_at_least(level),
        tenants: Mutex::default(),
    });
    let thread = {
        let sink = sink.clone();
        let writer = Writer {
            formatter: Formatter::new(format),
        };
        std::thread::Builder::new()
            .name("log-writer".to_string())
            .spawn(move || sink.write_out(output, &writer))
            .expect("starting the log writer thread")
    };
    let drain = LineDrain {
        level,
        sink: sink.clone(),
        tenants: tenants.clone(),
        accept_errors: Mutex::default(),
    };
    Logging {
        log: slog::Logger::root(drain.fuse(), slog::o!()),
        tenants,
        guard: LogGuard {
            sink,
            thread: Some(thread),
        },
    }
}

/// A logger that drops everything, for tests.
pub fn discard() -> slog::Logger {
    slog::Logger::root(slog::Discard, slog::o!())
}

/// Stops the writer when dropped, after it has written every line logged before.
pub struct LogGuard {
    sink: Arc<Sink>,
    thread: Option<JoinHandle<()>>,
}

impl LogGuard {
    /// Lines dropped so far because the buffer was full (each also reported in the log).
    pub fn dropped_total(&self) -> u64 {
        self.sink.lock().dropped_total
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.sink.lock().closed = true;
        self.sink.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[derive(Default)]
struct SinkState {
    /// Records waiting for the writer.
    batch: Batch,
    /// Lines dropped since the writer last reported it.
    dropped: u64,
    dropped_total: u64,
    closed: bool,
}

/// Records captured for the writer, and their own fields, one record's after another's.
#[derive(Default)]
struct Batch {
    records: Vec<Captured>,
    fields: Fields,
}

/// A record as its thread leaves it for the writer.
struct Captured {
    level: Level,
    /// When it was logged, since the Unix epoch.
    time: std::time::Duration,
    message: std::borrow::Cow<'static, str>,
    /// The record's own fields and then the logger's values: entries of [`Batch::fields`].
    fields: std::ops::Range<usize>,
    /// A request line's tenant (`None` for other lines).
    tenant: Option<Arc<str>>,
    /// A request line's peer, when its handler noted it (else its text is among the fields).
    remote: Option<SocketAddr>,
    request_line: bool,
}

/// The queue between the threads that log and the one that writes.
struct Sink {
    state: Mutex<SinkState>,
    wake: Condvar,
    /// The bounds of [`SinkState::batch`]: records, and bytes of their fields.
    lines: usize,
    bytes: usize,
}

impl Sink {
    fn lock(&self) -> std::sync::MutexGuard<'_, SinkState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `record` with `fields` as its own, or counts it as dropped when the queue is full.
    fn push(&self, record: Captured, fields: &Fields) {
        let mut state = self.lock();
        let batch = &mut state.batch;
        if batch.records.len() >= self.lines
            || batch.fields.text.len() + fields.text.len() > self.bytes
        {
            state.dropped += 1;
            state.dropped_total += 1;
            return;
        }
        let start = batch.fields.entries.len();
        batch.fields.append(fields, 0..fields.entries.len());
        batch.records.push(Captured {
            fields: start..batch.fields.entries.len(),
            ..record
        });
        let full = batch.records.len() == FLUSH_LINES;
        drop(state);
        // The writer wakes by itself every FLUSH_EVERY; it is woken early only for a full batch,
        // so that a busy server does not pay a wake-up per line.
        if full {
            self.wake.notify_one();
        }
    }

    /// The writer thread: formats whatever has been queued and writes it, until closed.
    fn write_out(&self, mut output: Box<dyn Write + Send>, writer: &Writer) {
        let mut batch = Batch::default();
        let mut fields = Fields::default();
        let mut out = Vec::new();
        loop {
            let (dropped, closed) = {
                let mut state = self.lock();
                if state.batch.records.len() < FLUSH_LINES && !state.closed {
                    state = self
                        .wake
                        .wait_timeout(state, FLUSH_EVERY)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                std::mem::swap(&mut state.batch, &mut batch);
                (std::mem::take(&mut state.dropped), state.closed)
            };
            // A failing output (a closed pipe) cannot be logged to; the lines are gone.
            for record in batch.records.drain(..) {
                writer.line(&mut out, &mut fields, &record, &batch.fields);
                if out.len() >= WRITE_BYTES {
                    let _ = output.write_all(&out);
                    out.clear();
                }
            }
            batch.fields.clear();
            if dropped > 0 {
                writer.formatter.dropped_line(&mut out, dropped);
            }
            if !out.is_empty() {
                let _ = output.write_all(&out);
                out.clear();
            }
            let _ = output.flush();
            if closed && self.lock().batch.records.is_empty() {
                return;
            }
        }
    }
}

/// What the writer thread needs to finish a line.
struct Writer {
    formatter: Formatter,
}

impl Writer {
    /// Formats `record` (its own fields in `own`) into `out`, with `fields` for scratch.
    fn line(&self, out: &mut Vec<u8>, fields: &mut Fields, record: &Captured, own: &Fields) {
        fields.clear();
        fields.skip = skipped(record.request_line);
        fields.append(own, record.fields.clone());
        if record.request_line {
            // The status under the name people look for.
            fields.rename("response_code", "status");
            if let Some(remote) = record.remote {
                fields.push_with(REMOTE_ADDR.into(), true, |text| {
                    let _ = write!(text, "{remote}");
                });
            }
            fields.push_str("tenant".into(), record.tenant.as_deref().unwrap_or("-"));
        }
        self.formatter
            .line(out, record.level, record.time, &record.message, fields);
    }
}

/// The keys a line leaves out: every request line would say which address it came in on, the
/// one the server listens on (logged once when it starts).
fn skipped(request_line: bool) -> &'static [&'static str] {
    if request_line { &[LOCAL_ADDR] } else { &[] }
}

/// Dropshot's keys for the address a request came in on, and for its peer.
const LOCAL_ADDR: &str = "local_addr";
const REMOTE_ADDR: &str = "remote_addr";

/// The keys a request line's capture leaves out: those it writes anyway ([`skipped`]), and the
/// peer, which the writer formats from the address its handler noted (a request no handler
/// saw has its peer captured as text afterwards, see [`PeerOnly`]).
fn not_captured(request_line: bool) -> &'static [&'static str] {
    if request_line {
        &[LOCAL_ADDR, REMOTE_ADDR]
    } else {
        &[]
    }
}

/// Captures the peer alone from a logger's values, for a request line without a note.
struct PeerOnly<'a>(&'a mut Fields);

impl Serializer for PeerOnly<'_> {
    fn emit_arguments(&mut self, key: Key, value: &fmt::Arguments<'_>) -> slog::Result {
        match key.as_str() == REMOTE_ADDR {
            true => self.0.emit_arguments(key, value),
            false => Ok(()),
        }
    }
}

/// Captures records for the writer.
struct LineDrain {
    level: Level,
    sink: Arc<Sink>,
    tenants: Arc<RequestTenants>,
    /// When an accept error was last written, and how many were left out since.
    accept_errors: Mutex<(Option<std::time::Instant>, u64)>,
}

impl Drain for LineDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        // Each logging thread reuses its buffer, record after record; a record logged while one
        // is being captured (a value that logs) gets a fresh one.
        FIELDS.with(|fields| match fields.try_borrow_mut() {
            Ok(mut fields) => self.log_with(record, values, &mut fields),
            Err(_) => self.log_with(record, values, &mut Fields::default()),
        });
        Ok(())
    }
}

thread_local! {
    /// The own fields of the record being captured on this thread.
    static FIELDS: std::cell::RefCell<Fields> = std::cell::RefCell::new(Fields::default());
}

impl LineDrain {
    fn log_with(&self, record: &Record<'_>, values: &OwnedKVList, fields: &mut Fields) {
        let message = match record.msg().as_str() {
            Some(text) => std::borrow::Cow::Borrowed(text),
            None => std::borrow::Cow::Owned(fmt::format(*record.msg())),
        };
        let request_line = message == REQUEST_COMPLETED || message == REQUEST_CANCELLED;
        let level = if message == CONNECTION_ACCEPTED {
            Level::Debug
        } else {
            record.level()
        };
        // A line that is not written is not captured either. (Request lines are written
        // whenever tenants are noted: the table is enabled only at info and below.)
        if !level.is_at_least(self.level) {
            return;
        }
        fields.clear();
        fields.skip = not_captured(request_line);
        // The record's own fields, then the logger's values (newest first), as slog orders
        // them; the first of a key is kept. The values are copied here, on the logging thread,
        // rather than handed to the writer: what they own (dropshot's per-request `req_id`,
        // `method` and `uri`) is then freed by the thread that allocated it, which costs an
        // allocator far less than a free from another thread.
        let _ = record.kv().serialize(record, fields);
        let _ = values.serialize(record, fields);
        if message == ACCEPT_ERROR {
            let mut errors = self
                .accept_errors
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let now = std::time::Instant::now();
            if errors.0.is_some_and(|last| now - last < REPEATS_EVERY) {
                errors.1 += 1;
                return;
            }
            if errors.1 > 0 {
                fields.push_raw("repeated".into(), errors.1);
            }
            *errors = (Some(now), 0);
        }
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        // The tenant is taken here, written or not (a dropped line leaves nothing behind).
        let noted = match request_line {
            // The first `req_id`: the record's own, else the logger's (dropshot's).
            true => fields
                .get("req_id")
                .and_then(|id| self.tenants.take(RequestId::of(id))),
            false => None,
        };
        if request_line && noted.is_none() {
            // No handler saw it (a 404, a 401): its peer is read from the logger's values.
            fields.skip = &[];
            let _ = values.serialize(record, &mut PeerOnly(fields));
        }
        let (tenant, remote) = noted.map(|n| (n.tenant, n.remote)).unzip();
        let captured = Captured {
            level,
            time,
            message,
            fields: 0..0,
            tenant,
            remote,
            request_line,
        };
        self.sink.push(captured, fields);
    }
}

/// The key-value pairs of one record, first occurrence of each key kept: the keys, and every
/// value's text in one buffer.
#[derive(Default)]
struct Fields {
    entries: Vec<Field>,
    text: String,
    /// Keys left out (and their values not even formatted).
    skip: &'static [&'static str],
}

struct Field {
    key: Key,
    /// A string (quoted in JSON), or text that is already JSON: a number, `true`, `false`,
    /// `null`.
    string: bool,
    /// Where the value's text is in [`Fields::text`].
    span: std::ops::Range<usize>,
}

impl Fields {
    fn clear(&mut self) {
        self.entries.clear();
        self.text.clear();
    }

    /// Appends `from`'s `entries` (and their text).
    fn append(&mut self, from: &Fields, entries: std::ops::Range<usize>) {
        for field in &from.entries[entries] {
            let start = self.text.len();
            self.text.push_str(&from.text[field.span.clone()]);
            self.entries.push(Field {
                key: field.key.clone(),
                string: field.string,
                span: start..self.text.len(),
            });
        }
    }

    /// The string value of `key`.
    fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|field| field.string && field.key.as_str() == key)
            .map(|field| &self.text[field.span.clone()])
    }

    /// Every field: its key, whether it is a string, and its text.
    fn iter(&self) -> impl Iterator<Item = (&str, bool, &str)> {
        self.entries.iter().map(|field| {
            (
                field.key.as_str(),
                field.string,
                &self.text[field.span.clone()],
            )
        })
    }

    fn rename(&mut self, from: &str, to: &'static str) {
        for field in &mut self.entries {
            if field.key.as_str() == from {
                field.key = to.into();
            }
        }
    }

    /// Adds a field whose text `write` writes, unless `key` has one already. A URI's secrets
    /// are redacted.
    fn push_with(&mut self, key: Key, string: bool, write: impl FnOnce(&mut String)) {
        if self.skip.contains(&key.as_str()) || self.entries.iter().any(|field| field.key == key) {
            return;
        }
        let start = self.text.len();
        write(&mut self.text);
        if string && key.as_str() == "uri" && self.text[start..].contains('?') {
            let uri = self.text.split_off(start);
            redact_uri_into(&mut self.text, &uri);
        }
        let span = start..self.text.len();
        self.entries.push(Field { key, string, span });
    }

    fn push_str(&mut self, key: Key, value: &str) {
        self.push_with(key, true, |text| text.push_str(value));
    }

    fn push_raw(&mut self, key: Key, value: impl fmt::Display) {
        self.push_with(key, false, |text| {
            let _ = write!(text, "{value}");
        });
    }

    /// An integer, written by `itoa` (a request line has two: its status and latency; the
    /// formatting machinery cost more than the rest of their capture).
    fn push_integer(&mut self, key: Key, value: impl itoa::Integer) {
        self.push_with(key, false, |text| {
            text.push_str(itoa::Buffer::new().format(value));
        });
    }
}

impl Serializer for Fields {
    fn emit_arguments(&mut self, key: Key, value: &fmt::Arguments<'_>) -> slog::Result {
        self.push_with(key, true, |text| {
            let _ = text.write_fmt(*value);
        });
        Ok(())
    }

    fn emit_str(&mut self, key: Key, value: &str) -> slog::Result {
        self.push_str(key, value);
        Ok(())
    }

    fn emit_bool(&mut self, key: Key, value: bool) -> slog::Result {
        self.push_raw(key, value);
        Ok(())
    }

    fn emit_none(&mut self, key: Key) -> slog::Result {
        self.push_raw(key, "null");
        Ok(())
    }

    fn emit_unit(&mut self, key: Key) -> slog::Result {
        self.emit_none(key)
    }

    fn emit_u64(&mut self, key: Key, value: u64) -> slog::Result {
        self.push_integer(key, value);
        Ok(())
    }

    fn emit_i64(&mut self, key: Key, value: i64) -> slog::Result {
        self.push_integer(key, value);
        Ok(())
    }

    fn emit_u128(&mut self, key: Key, value: u128) -> slog::Result {
        self.push_integer(key, value);
        Ok(())
    }

    fn emit_i128(&mut self, key: Key, value: i128) -> slog::Result {
        self.push_integer(key, value);
        Ok(())
    }

    fn emit_u32(&mut self, key: Key, value: u32) -> slog::Result {
        self.emit_u64(key, value.into())
    }

    fn emit_u16(&mut self, key: Key, value: u16) -> slog::Result {
        self.emit_u64(key, value.into())
    }

    fn emit_u8(&mut self, key: Key, value: u8) -> slog::Result {
        self.emit_u64(key, value.into())
    }

    fn emit_usize(&mut self, key: Key, value: usize) -> slog::Result {
        self.emit_u64(key, value as u64)
    }

    fn emit_i32(&mut self, key: Key, value: i32) -> slog::Result {
        self.emit_i64(key, value.into())
    }

    fn emit_i16(&mut self, key: Key, value: i16) -> slog::Result {
        self.emit_i64(key, value.into())
    }

    fn emit_i8(&mut self, key: Key, value: i8) -> slog::Result {
        self.emit_i64(key, value.into())
    }

    fn emit_isize(&mut self, key: Key, value: isize) -> slog::Result {
        self.emit_i64(key, value as i64)
    }

    fn emit_f64(&mut self, key: Key, value: f64) -> slog::Result {
        if value.is_finite() {
            self.push_raw(key, value);
        } else {
            self.push_raw(key, "null");
        }
        Ok(())
    }

    fn emit_f32(&mut self, key: Key, value: f32) -> slog::Result {
        self.emit_f64(key, value.into())
    }
}

/// Writes lines in one format.
struct Formatter {
    format: LogFormat,
    /// The bunyan fields that are the same on every line, after the time: hostname and pid.
    host: Vec<u8>,
}

impl Formatter {
    fn new(format: LogFormat) -> Self {
        let hostname = hostname::get()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut host = b"\",\"hostname\":".to_vec();
        json_string(&mut host, &hostname);
        let _ = write!(host, ",\"pid\":{}", std::process::id());
        Self { format, host }
    }

    fn line(
        &self,
        out: &mut Vec<u8>,
        level: Level,
        since_epoch: std::time::Duration,
        message: &str,
        fields: &Fields,
    ) {
        let mut time = [0; TIME_LENGTH];
        let time = format_time(since_epoch, &mut time);
        match self.format {
            LogFormat::Json => {
                // Bunyan's core fields (https://github.com/trentm/node-bunyan#core-fields).
                let level = match level {
                    Level::Critical => "60",
                    Level::Error => "50",
                    Level::Warning => "40",
                    Level::Info => "30",
                    Level::Debug => "20",
                    Level::Trace => "10",
                };
                out.extend_from_slice(b"{\"msg\":");
                json_string(out, message);
                out.extend_from_slice(b",\"v\":0,\"name\":\"connect-server\",\"level\":");
                out.extend_from_slice(level.as_bytes());
                out.extend_from_slice(b",\"time\":\"");
                out.extend_from_slice(time.as_bytes());
                out.extend_from_slice(&self.host);
                for (key, string, text) in fields.iter() {
                    out.push(b',');
                    json_string(out, key);
                    out.push(b':');
                    match string {
                        true => json_string(out, text),
                        false => out.extend_from_slice(text.as_bytes()),
                    }
                }
                out.extend_from_slice(b"}\n");
            }
            LogFormat::Terminal => {
                let _ = write!(out, "{time} {:<5} {message}", level.as_short_str());
                for (key, string, value) in fields.iter() {
                    let _ = if string && (value.is_empty() || value.contains([' ', '"', '\n'])) {
                        write!(out, " {key}={value:?}")
                    } else {
                        write!(out, " {key}={value}")
                    };
                }
                out.push(b'\n');
            }
        }
    }

    fn dropped_line(&self, out: &mut Vec<u8>, dropped: u64) {
        let mut fields = Fields::default();
        fields.push_raw("dropped".into(), dropped);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        self.line(
            out,
            Level::Warning,
            now,
            "log lines dropped: the log output fell behind",
            &fields,
        );
    }
}

/// The length of [`format_time`]'s text.
const TIME_LENGTH: usize = "2026-12-01T21:26:34.123456Z".len();

/// The time `since_epoch` as RFC 3339, in UTC, to the microsecond (`2026-12-01T21:26:34.123456Z`,
/// as chrono writes it), written into `buffer`. The part up to the second is formatted once
/// per second on each thread.
fn format_time(since_epoch: std::time::Duration, buffer: &mut [u8; TIME_LENGTH]) -> &str {
    thread_local! {
        static SECOND: std::cell::Cell<(u64, [u8; 19])> = const { std::cell::Cell::new((u64::MAX, [0; 19])) };
    }
    let seconds = since_epoch.as_secs();
    let (cached, mut prefix) = SECOND.get();
    if cached != seconds {
        let time = i64::try_from(seconds)
            .ok()
            .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
            .unwrap_or_default();
        let text = time.format("%Y-%m-%dT%H:%M:%S").to_string();
        prefix.copy_from_slice(&text.as_bytes()[..19]);
        SECOND.set((seconds, prefix));
    }
    buffer[..19].copy_from_slice(&prefix);
    buffer[19] = b'.';
    let mut micros = since_epoch.subsec_micros();
    for digit in buffer[20..26].iter_mut().rev() {
        *digit = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    buffer[26] = b'Z';
    std::str::from_utf8(buffer).expect("ASCII")
}

/// `text` as a JSON string, as serde_json writes it.
fn json_string(out: &mut Vec<u8>, text: &str) {
    // What serde_json escapes: control characters, the quote and the backslash. Most text has
    // none, and is copied as it is.
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
    }
}

/// The marker that replaces a secret's value.
pub const REDACTED: &str = "REDACTED";

/// Whether a query parameter's name looks like it carries a secret: after lower-casing and
/// dropping everything but letters and digits (`api_key`, `X-Api-Key` and `apiKey` are all
/// `apikey`), it contains one of `key`, `token`, `secret`, `password`, `passwd`, `pwd`,
/// `signature`, `auth`, `credential`, `session`, `cookie` or `jwt`, or it is `sig`. Some
/// harmless names are redacted too (`sortkey`): the price of never logging a key.
pub fn is_secret_name(name: &str) -> bool {
    const PARTS: [&str; 12] = [
        "key",
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "signature",
        "auth",
        "credential",
        "session",
        "cookie",
        "jwt",
    ];
    let name: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    name == "sig" || PARTS.iter().any(|part| name.contains(part))
}

/// The URI with the values of secret-looking query parameters replaced by [`REDACTED`].
pub fn redact_uri(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    redact_uri_into(&mut out, uri);
    out
}

/// [`redact_uri`], written at the end of `out`.
fn redact_uri_into(out: &mut String, uri: &str) {
    let Some((path, query)) = uri.split_once('?') else {
        out.push_str(uri);
        return;
    };
    out.push_str(path);
    out.push('?');
    for (index, pair) in query.split('&').enumerate() {
        if index > 0 {
            out.push('&');
        }
        let (name, value) = match pair.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (pair, None),
        };
        // The name as the server reads it: `+` is a space, `%xx` a byte.
        let decoded: String = form_urlencoded_name(name);
        match value {
            Some(_) if is_secret_name(&decoded) => {
                out.push_str(name);
                out.push('=');
                out.push_str(REDACTED);
            }
            _ => out.push_str(pair),
        }
    }
}

fn form_urlencoded_name(name: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(name)
        .ok()
        .and_then(|pairs| pairs.into_iter().next())
        .map_or_else(|| name.to_string(), |(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_query_values_are_redacted_and_nothing_else() {
        assert_eq!(
            redact_uri("/users?api_key=abc&limit=5&Token=x&%61pi%5Fkey=y&sig=z&design=ok"),
            "/users?api_key=REDACTED&limit=5&Token=REDACTED&%61pi%5Fkey=REDACTED&sig=REDACTED&design=ok"
        );
        assert_eq!(redact_uri("/users/1"), "/users/1");
        assert_eq!(redact_uri("/users?key"), "/users?key");
        assert_eq!(
            redact_uri("/x?password=&X-Api-Key=1&accessToken=2&client_secret=3"),
            "/x?password=REDACTED&X-Api-Key=REDACTED&accessToken=REDACTED&client_secret=REDACTED"
        );
        for name in [
            "limit",
            "offset",
            "filter",
            "customerId[]",
            "cursor",
            "email",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    /// An output that the test reads back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// An output that blocks until told to go on, to fill the buffer.
    struct Gate(Arc<(Mutex<bool>, Condvar)>, Shared);

    impl Write for Gate {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let (open, changed) = &*self.0;
            let mut open = open.lock().unwrap();
            while !*open {
                open = changed.wait(open).unwrap();
            }
            self.1.write(bytes)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The peer of every request in these tests.
    const PEER: &str = "10.1.2.3:45678";

    fn peer() -> SocketAddr {
        PEER.parse().unwrap()
    }

    /// A request's records as dropshot logs them, its peer a `SocketAddr` as dropshot's is.
    fn request_line(log: &slog::Logger, id: &str) {
        let request = log.new(
            slog::o!("local_addr" => "127.0.0.1:8080", "remote_addr" => peer(),
            "req_id" => id.to_string(), "method" => "GET", "uri" => "/users?api_key=s3cret"),
        );
        slog::info!(request, "accepted connection");
        slog::info!(request, "request completed"; "response_code" => 200u16, "latency_us" => 5u64);
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for text in [
            "",
            "plain",
            "a \"quoted\" \\ word",
            "tab\there\n",
            "\u{1}\u{1f}\u{7f}",
            "é ✓ 🙂",
        ] {
            let mut out = Vec::new();
            json_string(&mut out, text);
            assert_eq!(out, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn times_read_as_chrono_writes_them() {
        for (seconds, nanos) in [
            (0, 0),
            (1_796_160_394, 123_456_789),
            (1_796_160_394, 999_999),
            (4_102_444_799, 1_000),
        ] {
            let since_epoch = std::time::Duration::new(seconds, nanos);
            let expected = chrono::DateTime::from_timestamp(seconds as i64, nanos)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            // Twice: the second time from the thread's cached second.
            for _ in 0..2 {
                assert_eq!(format_time(since_epoch, &mut [0; TIME_LENGTH]), expected);
            }
        }
    }

    #[test]
    fn one_json_line_per_request_with_its_tenant_and_no_secret() {
        let output = Shared::default();
        let logging = root_logger(LogFormat::Json, Level::Info, Box::new(output.clone()));
        logging.tenants.note("r1", &"acme".into(), peer());
        request_line(&logging.log, "r1");
        request_line(&logging.log, "r2");
        let tenants = logging.tenants.clone();
        drop(logging);
        assert_eq!(tenants.pending(), 0, "the tenants written are taken");
        let text = String::from_utf8(output.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("each line is JSON"))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["msg"], "request completed");
        assert_eq!(lines[0]["tenant"], "acme");
        assert_eq!(lines[0]["status"], 200);
        assert_eq!(lines[0]["uri"], "/users?api_key=REDACTED");
        assert_eq!(lines[0]["level"], 30);
        assert_eq!(lines[0]["req_id"], "r1");
        assert_eq!(lines[0].get("local_addr"), None, "{text}");
        assert_eq!(lines[1]["tenant"], "-");
        // The noted request's peer is written from its note, the other's from the logger.
        assert_eq!(lines[0]["remote_addr"], PEER, "{text}");
        assert_eq!(lines[1]["remote_addr"], PEER, "{text}");
        assert!(!text.contains("s3cret"));
    }

    #[test]
    fn above_info_no_request_line_and_no_tenant_kept() {
        let output = Shared::default();
        let logging = root_logger(
            LogFormat::Terminal,
            Level::Warning,
            Box::new(output.clone()),
        );
        logging.tenants.note("r1", &"acme".into(), peer());
        request_line(&logging.log, "r1");
        slog::warn!(logging.log, "something odd"; "uri" => "/?token=t");
        assert_eq!(logging.tenants.pending(), 0);
        drop(logging);
        let text = String::from_utf8(output.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            text.contains("WARN  something odd uri=/?token=REDACTED"),
            "{text}"
        );
    }

    #[test]
    fn repeated_accept_errors_are_one_line_with_a_count() {
        let output = Shared::default();
        let logging = root_logger(LogFormat::Json, Level::Info, Box::new(output.clone()));
        for _ in 0..50 {
            slog::warn!(logging.log, "accept error"; "error" => "Too many open files");
        }
        drop(logging);
        let text = String::from_utf8(output.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
    }

    /// Logs `total` records while the writer is blocked in its first `write`, each by
    /// `log(index)`, then lets it go; answers what was written, and how many were counted as
    /// dropped (by the guard).
    fn with_blocked_writer(total: usize, log: impl Fn(&Logging, usize)) -> (String, u64) {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let output = Shared::default();
        let logging = root_logger(
            LogFormat::Json,
            Level::Info,
            Box::new(Gate(gate.clone(), output.clone())),
        );
        // The writer takes the first record and blocks in `write`; the rest fill the queue.
        log(&logging, 0);
        std::thread::sleep(FLUSH_EVERY * 3);
        for index in 1..total {
            log(&logging, index);
        }
        let dropped = logging.guard.dropped_total();
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        drop(logging);
        let text = String::from_utf8(output.0.lock().unwrap().clone()).unwrap();
        (text, dropped)
    }

    /// The lines written with `marker`, and the count the `log lines dropped` lines report.
    fn written_and_reported(text: &str, marker: &str) -> (u64, u64) {
        let written = text.lines().filter(|l| l.contains(marker)).count() as u64;
        let reported = text
            .lines()
            .filter(|l| l.contains("log lines dropped"))
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["dropped"]
                    .as_u64()
                    .unwrap()
            })
            .sum();
        (written, reported)
    }

    #[test]
    fn a_full_queue_drops_lines_and_says_how_many() {
        // Both bounds: many small records, and fewer whose own fields are large.
        let long = "x".repeat(1000);
        for (total, text) in [
            (2 * LOG_BUFFER_LINES, "short"),
            (2 * LOG_BUFFER_BYTES / long.len(), long.as_str()),
        ] {
            let (output, dropped) = with_blocked_writer(total, |logging, _| {
                slog::info!(logging.log, "filler"; "text" => text);
            });
            assert!(dropped > 0, "{total} records of {} bytes", text.len());
            let (written, reported) = written_and_reported(&output, "filler");
            assert_eq!(reported, dropped);
            assert_eq!(
                written + reported,
                total as u64,
                "every line written or counted"
            );
        }
    }

    #[test]
    fn a_dropped_request_line_leaves_no_tenant_behind() {
        let total = LOG_BUFFER_LINES + 100;
        let tenants = std::sync::OnceLock::new();
        let (output, dropped) = with_blocked_writer(total, |logging, index| {
            let tenants = tenants.get_or_init(|| logging.tenants.clone());
            let id = format!("r{index}");
            tenants.note(&id, &"acme".into(), peer());
            request_line(&logging.log, &id);
        });
        assert!(dropped > 0);
        let (written, reported) = written_and_reported(&output, "request completed");
        assert_eq!(written + reported, total as u64);
        assert_eq!(tenants.get().unwrap().pending(), 0);
    }
}
