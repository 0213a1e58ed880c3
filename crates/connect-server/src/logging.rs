//! The server's logs: one line per request, never lost without saying so, secrets redacted.
//!
//! Dropshot writes one record for every request it completes (`request completed`: `method`,
//! `uri`, `status`, `latency_us`, `req_id`, `remote_addr`), including those no handler saw
//! (404, 405).
//! That record is the request line; the handler adds what only it knows, the tenant, through
//! [`RequestTenants`]. Dropshot's per-connection record is demoted to debug, so that `info`
//! means exactly one line per request.
//!
//! Lines are formatted on the calling thread into a bounded in-memory buffer ([`LOG_BUFFER_BYTES`])
//! that one writer thread empties into the output with one `write` per batch, every 20 ms or
//! as soon as 64 KiB wait. When the output
//! cannot keep up and the buffer is full, new lines are dropped and counted, and the writer
//! then says how many: `log lines dropped` with `dropped: N` (a line is never lost silently).
//!
//! In every URI, the values of query parameters whose names look like secrets (`api_key`,
//! `token`, `password`, `signature`, ...: see [`is_secret_name`]) are replaced by `REDACTED`.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::io::Write;
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

/// How many bytes of formatted lines may wait for the writer before new lines are dropped
/// (and counted): at ~300 bytes a request line, about 28,000 requests.
pub const LOG_BUFFER_BYTES: usize = 8 * 1024 * 1024;

/// How much the buffer holds before the writer is woken early.
const FLUSH_BYTES: usize = 64 * 1024;
/// How long a line may wait in the buffer at most (when fewer than [`FLUSH_BYTES`] wait).
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
    tenants: Mutex<HashMap<String, String>>,
}

impl RequestTenants {
    /// A table whose entries no request line takes: notes are ignored.
    pub fn disabled() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Records the tenant of the request `request_id`, for its request line.
    pub fn note(&self, request_id: &str, tenant: &str) {
        if self.enabled {
            self.lock()
                .insert(request_id.to_string(), tenant.to_string());
        }
    }

    fn take(&self, request_id: &str) -> Option<String> {
        if self.enabled {
            self.lock().remove(request_id)
        } else {
            None
        }
    }

    /// Requests noted whose line has not been written yet (requests in flight).
    pub fn pending(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
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
        capacity: LOG_BUFFER_BYTES,
    });
    let formatter = Arc::new(Formatter::new(format));
    let thread = {
        let sink = sink.clone();
        let formatter = formatter.clone();
        std::thread::Builder::new()
            .name("log-writer".to_string())
            .spawn(move || sink.write_out(output, &formatter))
            .expect("starting the log writer thread")
    };
    let tenants = Arc::new(RequestTenants {
        enabled: Level::Info.is_at_least(level),
        tenants: Mutex::default(),
    });
    let drain = LineDrain {
        level,
        formatter,
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
    /// Formatted lines waiting for the writer.
    buffer: Vec<u8>,
    /// Lines dropped since the writer last reported it.
    dropped: u64,
    dropped_total: u64,
    closed: bool,
}

/// The buffer between the threads that log and the one that writes.
struct Sink {
    state: Mutex<SinkState>,
    wake: Condvar,
    capacity: usize,
}

impl Sink {
    fn lock(&self) -> std::sync::MutexGuard<'_, SinkState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, line: &[u8]) {
        let mut state = self.lock();
        let before = state.buffer.len();
        if before + line.len() > self.capacity {
            state.dropped += 1;
            state.dropped_total += 1;
        } else {
            state.buffer.extend_from_slice(line);
        }
        let crossed = before < FLUSH_BYTES && state.buffer.len() >= FLUSH_BYTES;
        drop(state);
        // The writer wakes by itself every FLUSH_EVERY; it is woken early only for a full batch,
        // so that a busy server does not pay a wake-up per line.
        if crossed {
            self.wake.notify_one();
        }
    }

    /// The writer thread: writes whatever has accumulated, in one call, until closed.
    fn write_out(&self, mut output: Box<dyn Write + Send>, formatter: &Formatter) {
        let mut batch = Vec::new();
        loop {
            let (dropped, closed) = {
                let mut state = self.lock();
                if state.buffer.len() < FLUSH_BYTES && !state.closed {
                    state = self
                        .wake
                        .wait_timeout(state, FLUSH_EVERY)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                std::mem::swap(&mut state.buffer, &mut batch);
                (std::mem::take(&mut state.dropped), state.closed)
            };
            if !batch.is_empty() {
                // A failing output (a closed pipe) cannot be logged to; the lines are gone.
                let _ = output.write_all(&batch);
                batch.clear();
            }
            if dropped > 0 {
                let mut line = Vec::new();
                formatter.dropped_line(&mut line, dropped);
                let _ = output.write_all(&line);
            }
            let _ = output.flush();
            if closed && self.lock().buffer.is_empty() {
                return;
            }
        }
    }
}

/// Formats records into lines and hands them to the sink.
struct LineDrain {
    level: Level,
    formatter: Arc<Formatter>,
    sink: Arc<Sink>,
    tenants: Arc<RequestTenants>,
    /// When an accept error was last written, and how many were left out since.
    accept_errors: Mutex<(Option<std::time::Instant>, u64)>,
}

impl Drain for LineDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        let message = fmt::format(*record.msg());
        let mut fields = Fields::default();
        // The record's own values first, then the logger's (newest first), as slog orders them.
        let _ = record.kv().serialize(record, &mut fields);
        let _ = values.serialize(record, &mut fields);
        // Taken even when the line is not written, so that the table only holds requests in
        // flight.
        if message == REQUEST_COMPLETED || message == REQUEST_CANCELLED {
            // The status under the name people look for.
            for (key, _) in &mut fields.0 {
                if key == "response_code" {
                    *key = "status".to_string();
                }
            }
            let tenant = fields
                .get("req_id")
                .and_then(|id| self.tenants.take(id))
                .unwrap_or_else(|| "-".to_string());
            fields.push("tenant", Value::Str(tenant));
        }
        if message == ACCEPT_ERROR {
            let mut errors = self
                .accept_errors
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let now = std::time::Instant::now();
            if errors.0.is_some_and(|last| now - last < REPEATS_EVERY) {
                errors.1 += 1;
                return Ok(());
            }
            if errors.1 > 0 {
                fields.push("repeated", Value::Raw(errors.1.to_string()));
            }
            *errors = (Some(now), 0);
        }
        let level = if message == CONNECTION_ACCEPTED {
            Level::Debug
        } else {
            record.level()
        };
        if !level.is_at_least(self.level) {
            return Ok(());
        }
        LINE.with(|line| {
            let mut line = line.borrow_mut();
            line.clear();
            self.formatter.line(&mut line, level, &message, &fields);
            self.sink.push(&line);
        });
        Ok(())
    }
}

thread_local! {
    /// Each logging thread formats into its own buffer, reused line after line.
    static LINE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[derive(Debug)]
enum Value {
    Str(String),
    /// Already JSON: a number, `true`, `false` or `null`.
    Raw(String),
}

/// The key-value pairs of one record, first occurrence of each key kept.
#[derive(Default)]
struct Fields(Vec<(String, Value)>);

impl Fields {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find_map(|(k, v)| match v {
            Value::Str(text) if k == key => Some(text.as_str()),
            _ => None,
        })
    }

    fn push(&mut self, key: &str, value: Value) {
        if self.0.iter().any(|(k, _)| k == key) {
            return;
        }
        let value = match value {
            Value::Str(text) if key == "uri" => Value::Str(redact_uri(&text)),
            other => other,
        };
        self.0.push((key.to_string(), value));
    }
}

impl Serializer for Fields {
    fn emit_arguments(&mut self, key: Key, value: &fmt::Arguments<'_>) -> slog::Result {
        self.push(key.as_ref(), Value::Str(fmt::format(*value)));
        Ok(())
    }

    fn emit_str(&mut self, key: Key, value: &str) -> slog::Result {
        self.push(key.as_ref(), Value::Str(value.to_string()));
        Ok(())
    }

    fn emit_bool(&mut self, key: Key, value: bool) -> slog::Result {
        self.push(key.as_ref(), Value::Raw(value.to_string()));
        Ok(())
    }

    fn emit_none(&mut self, key: Key) -> slog::Result {
        self.push(key.as_ref(), Value::Raw("null".to_string()));
        Ok(())
    }

    fn emit_unit(&mut self, key: Key) -> slog::Result {
        self.emit_none(key)
    }

    fn emit_u64(&mut self, key: Key, value: u64) -> slog::Result {
        self.push(key.as_ref(), Value::Raw(value.to_string()));
        Ok(())
    }

    fn emit_i64(&mut self, key: Key, value: i64) -> slog::Result {
        self.push(key.as_ref(), Value::Raw(value.to_string()));
        Ok(())
    }

    fn emit_u128(&mut self, key: Key, value: u128) -> slog::Result {
        self.push(key.as_ref(), Value::Raw(value.to_string()));
        Ok(())
    }

    fn emit_i128(&mut self, key: Key, value: i128) -> slog::Result {
        self.push(key.as_ref(), Value::Raw(value.to_string()));
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
        let raw = if value.is_finite() {
            value.to_string()
        } else {
            "null".to_string()
        };
        self.push(key.as_ref(), Value::Raw(raw));
        Ok(())
    }

    fn emit_f32(&mut self, key: Key, value: f32) -> slog::Result {
        self.emit_f64(key, value.into())
    }
}

/// Writes lines in one format.
struct Formatter {
    format: LogFormat,
    /// For the bunyan fields.
    hostname: String,
    pid: u32,
}

impl Formatter {
    fn new(format: LogFormat) -> Self {
        Self {
            format,
            hostname: hostname::get()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            pid: std::process::id(),
        }
    }

    fn line(&self, out: &mut Vec<u8>, level: Level, message: &str, fields: &Fields) {
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        match self.format {
            LogFormat::Json => {
                // Bunyan's core fields (https://github.com/trentm/node-bunyan#core-fields).
                let level = match level {
                    Level::Critical => 60,
                    Level::Error => 50,
                    Level::Warning => 40,
                    Level::Info => 30,
                    Level::Debug => 20,
                    Level::Trace => 10,
                };
                out.extend_from_slice(b"{\"msg\":");
                json_string(out, message);
                let _ = write!(
                    out,
                    ",\"v\":0,\"name\":\"connect-server\",\"level\":{level},\"time\":\"{time}\",\"hostname\":"
                );
                json_string(out, &self.hostname);
                let _ = write!(out, ",\"pid\":{}", self.pid);
                for (key, value) in &fields.0 {
                    out.push(b',');
                    json_string(out, key);
                    out.push(b':');
                    match value {
                        Value::Str(text) => json_string(out, text),
                        Value::Raw(raw) => out.extend_from_slice(raw.as_bytes()),
                    }
                }
                out.extend_from_slice(b"}\n");
            }
            LogFormat::Terminal => {
                let mut text = String::new();
                let _ = write!(text, "{time} {:<5} {message}", level.as_short_str());
                for (key, value) in &fields.0 {
                    match value {
                        Value::Str(value)
                            if value.is_empty() || value.contains([' ', '"', '\n']) =>
                        {
                            let _ = write!(text, " {key}={value:?}");
                        }
                        Value::Str(value) => {
                            let _ = write!(text, " {key}={value}");
                        }
                        Value::Raw(raw) => {
                            let _ = write!(text, " {key}={raw}");
                        }
                    }
                }
                text.push('\n');
                out.extend_from_slice(text.as_bytes());
            }
        }
    }

    fn dropped_line(&self, out: &mut Vec<u8>, dropped: u64) {
        let mut fields = Fields::default();
        fields.push("dropped", Value::Raw(dropped.to_string()));
        self.line(
            out,
            Level::Warning,
            "log lines dropped: the log output fell behind",
            &fields,
        );
    }
}

fn json_string(out: &mut Vec<u8>, text: &str) {
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
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
    let Some((path, query)) = uri.split_once('?') else {
        return uri.to_string();
    };
    let mut out = String::with_capacity(uri.len());
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
    out
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

    fn request_line(log: &slog::Logger, id: &str) {
        let request = log.new(slog::o!("req_id" => id.to_string(), "method" => "GET",
            "uri" => "/users?api_key=s3cret"));
        slog::info!(request, "accepted connection");
        slog::info!(request, "request completed"; "response_code" => 200u16, "latency_us" => 5u64);
    }

    #[test]
    fn one_json_line_per_request_with_its_tenant_and_no_secret() {
        let output = Shared::default();
        let logging = root_logger(LogFormat::Json, Level::Info, Box::new(output.clone()));
        logging.tenants.note("r1", "acme");
        request_line(&logging.log, "r1");
        request_line(&logging.log, "r2");
        assert_eq!(logging.tenants.pending(), 0);
        drop(logging);
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
        assert_eq!(lines[1]["tenant"], "-");
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
        logging.tenants.note("r1", "acme");
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

    #[test]
    fn a_full_buffer_drops_lines_and_says_how_many() {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let output = Shared::default();
        let logging = root_logger(
            LogFormat::Json,
            Level::Info,
            Box::new(Gate(gate.clone(), output.clone())),
        );
        // The writer takes the first line and blocks in `write`; the rest fill the buffer.
        let line = "x".repeat(1000);
        let total = 2 * LOG_BUFFER_BYTES / 1000;
        for _ in 0..total {
            slog::info!(logging.log, "filler"; "text" => &line);
        }
        let dropped = logging.guard.dropped_total();
        assert!(dropped > 0);
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        drop(logging);
        let text = String::from_utf8(output.0.lock().unwrap().clone()).unwrap();
        let written = text.lines().filter(|l| l.contains("filler")).count() as u64;
        let reported: u64 = text
            .lines()
            .filter(|l| l.contains("log lines dropped"))
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["dropped"]
                    .as_u64()
                    .unwrap()
            })
            .sum();
        assert_eq!(reported, dropped);
        assert_eq!(
            written + reported,
            total as u64,
            "every line written or counted"
        );
    }
}
