//! The harness: the real server on `127.0.0.1:0` with a fresh store, and a fault server that
//! answers, forwards, drops or stalls each request as a test scripts it, recording them all.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use connect_client::{Client, RetryPolicy, types};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const TENANT: &str = "acme";
pub const KEY: &str = "acme-test-key";

/// The reference server with a fresh in-memory store. It stops with the test's runtime.
pub struct Api {
    _server: dropshot::HttpServer<connect_server::ServerContext>,
    pub url: String,
}

impl Api {
    /// Starts the server; it accepts connections when this returns.
    pub fn start() -> Api {
        let server = connect_server::start(connect_server::Config::new(
            "127.0.0.1:0".parse().expect("an address"),
            connect_server::auth::ApiKeys::new([(TENANT.to_string(), KEY.to_string())]),
            Arc::new(connect_server::clock::SystemClock),
            connect_server::logging::discard(),
        ))
        .expect("the server starts");
        let url = format!("http://{}", server.local_addr());
        Api {
            _server: server,
            url,
        }
    }

    /// A client talking to the server directly.
    pub fn client(&self) -> Client {
        client_for(&self.url)
    }
}

pub fn client_for(url: &str) -> Client {
    Client::with_api_key(url, KEY).expect("a valid configuration")
}

/// Retries without waiting long: tests must be fast.
pub fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .with_base_delay(Duration::from_millis(1))
        .with_max_delay(Duration::from_millis(5))
}

/// `count` users named `{prefix} {i}`, created one after the other (so in list order).
pub async fn create_users(client: &Client, prefix: &str, count: usize) -> Vec<types::User> {
    let mut users = Vec::with_capacity(count);
    for i in 0..count {
        let user = client
            .create_user()
            .body(types::CreateUserRequest::builder().name(format!("{prefix} {i}")))
            .send()
            .await
            .expect("the user is created");
        users.push(user.into_inner());
    }
    users
}

/// A spec `Error` body.
pub fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({ "code": code, "message": message }).to_string()
}

/// What the fault server does with one request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and body (JSON when it parses as JSON), forwarding nothing.
    Respond(u16, String),
    /// Forward to the upstream server and relay its answer.
    Forward,
    /// Forward to the upstream server, wait for its whole answer, then close the connection
    /// without sending any of it: the request was processed, its response is lost.
    ForwardThenDrop,
    /// Close the connection without answering or forwarding.
    Drop,
    /// Keep the connection open without answering until the client gives up.
    Hang,
}

/// A request the fault server received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn idempotency_key(&self) -> Option<&str> {
        self.header("x-idempotency-key")
    }
}

struct Shared {
    script: Mutex<VecDeque<Fault>>,
    then: Fault,
    upstream: Option<String>,
    seen: Mutex<Vec<Recorded>>,
    http: reqwest::Client,
}

/// An HTTP/1.1 server that handles the n-th request as the n-th scripted [`Fault`] (then as
/// `then`), answering one request per connection.
pub struct FaultServer {
    pub url: String,
    shared: Arc<Shared>,
}

impl FaultServer {
    /// Binds, then starts serving: connections are accepted as soon as this returns.
    pub async fn start(
        upstream: Option<&str>,
        script: impl IntoIterator<Item = Fault>,
        then: Fault,
    ) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let shared = Arc::new(Shared {
            script: Mutex::new(script.into_iter().collect()),
            then,
            upstream: upstream.map(str::to_string),
            seen: Mutex::new(Vec::new()),
            http: reqwest::Client::new(),
        });
        let accepting = shared.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(accepting.clone(), socket));
            }
        });
        FaultServer { url, shared }
    }

    /// A fault server that forwards everything to `upstream`: a recording proxy.
    pub async fn proxy(upstream: &str) -> FaultServer {
        Self::start(Some(upstream), [], Fault::Forward).await
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// The `X-Idempotency-Key` of every request received so far.
    pub fn keys(&self) -> Vec<Option<String>> {
        self.requests()
            .iter()
            .map(|request| request.idempotency_key().map(str::to_string))
            .collect()
    }
}

async fn serve(shared: Arc<Shared>, mut socket: TcpStream) {
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    let fault = {
        // The script is consumed in the order requests arrive.
        let mut script = shared.script.lock().unwrap();
        shared.seen.lock().unwrap().push(request.clone());
        script.pop_front().unwrap_or_else(|| shared.then.clone())
    };
    match fault {
        Fault::Respond(status, body) => {
            let content_type = if serde_json::from_str::<serde_json::Value>(&body).is_ok() {
                "application/json"
            } else {
                "text/html"
            };
            let headers = vec![("content-type".to_string(), content_type.to_string())];
            respond(&mut socket, status, &headers, body.as_bytes()).await;
        }
        Fault::Forward => {
            let (status, headers, body) = forward(&shared, &request).await;
            respond(&mut socket, status, &headers, &body).await;
        }
        Fault::ForwardThenDrop => {
            forward(&shared, &request).await;
        }
        Fault::Drop => {}
        Fault::Hang => {
            // Returns when the client closes the connection (it timed out).
            let mut byte = [0u8; 1];
            let _ = socket.read(&mut byte).await;
        }
    }
}

/// Reads one request: head up to the blank line, then `Content-Length` bytes of body.
async fn read_request(socket: &mut TcpStream) -> Option<Recorded> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let read = socket.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8(buffer[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_string();
    let target = request_line.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let read = socket.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Some(Recorded {
        method,
        target,
        headers,
        body,
    })
}

/// Sends `request` to the upstream server as it came (same method, target, headers and body
/// bytes) and returns the whole answer.
async fn forward(shared: &Shared, request: &Recorded) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let upstream = shared
        .upstream
        .as_deref()
        .expect("a fault server that forwards has an upstream");
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).expect("a method");
    let mut outgoing = shared
        .http
        .request(method, format!("{upstream}{}", request.target))
        .body(request.body.clone());
    for (name, value) in &request.headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection") {
            outgoing = outgoing.header(name, value);
        }
    }
    let response = outgoing.send().await.expect("the upstream server answers");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "content-length" | "transfer-encoding" | "connection"
            )
        })
        .map(|(name, value)| {
            (
                name.to_string(),
                value.to_str().expect("ASCII headers").to_string(),
            )
        })
        .collect();
    let body = response.bytes().await.expect("a whole body").to_vec();
    (status, headers, body)
}

async fn respond(socket: &mut TcpStream, status: u16, headers: &[(String, String)], body: &[u8]) {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .unwrap_or("Unknown");
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    // The client may have gone already; nothing to do about it here.
    let _ = socket.write_all(head.as_bytes()).await;
    let _ = socket.write_all(body).await;
    let _ = socket.shutdown().await;
}
