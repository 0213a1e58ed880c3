//! The recording proxy: every request of every test goes client -> proxy -> server, and the
//! proxy checks every answer against the spec on the way back. Tests cannot bypass it: the
//! harness hands out only the proxy's address.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::spec::{Exchange, spec};

/// Everything the proxy saw, and what was wrong with it.
#[derive(Default)]
pub struct Recorder {
    inner: Mutex<Recorded>,
}

#[derive(Default)]
struct Recorded {
    exchanges: Vec<Exchange>,
    /// (operationId, status) of every exchange that named an operation.
    pairs: BTreeSet<(String, u16)>,
    /// (operationId, status, error code) of every error answer.
    codes: BTreeSet<(String, u16, String)>,
    violations: Vec<String>,
}

impl Recorder {
    fn record(&self, exchange: Exchange) {
        let verdict = spec().check(&exchange);
        let mut inner = self.inner.lock().expect("recorder lock");
        if let Some(operation) = &verdict.operation {
            inner.pairs.insert((operation.clone(), exchange.status));
            if exchange.status >= 400
                && let Some(code) = exchange.json().get("code").and_then(|c| c.as_str())
            {
                inner
                    .codes
                    .insert((operation.clone(), exchange.status, code.to_string()));
            }
        }
        inner.violations.extend(verdict.violations);
        inner.exchanges.push(exchange);
    }

    /// A problem found outside the spec check (the proxy could not reach the server, ...).
    pub fn violation(&self, text: String) {
        self.inner
            .lock()
            .expect("recorder lock")
            .violations
            .push(text);
    }

    /// Records a webhook delivery the harness's receiver got (its body as received, what the
    /// receiver answered), checked against the spec like an exchange.
    pub fn record_delivery(&self, name: &str, body: &[u8], status: u16) {
        let (id, violations) = spec().check_delivery(name, body, status);
        let mut inner = self.inner.lock().expect("recorder lock");
        if let Some(id) = id {
            inner.pairs.insert((id, status));
        }
        inner.violations.extend(violations);
    }

    /// Records a problem found outside an exchange.
    pub fn record_violation(&self, violation: String) {
        self.inner
            .lock()
            .expect("recorder lock")
            .violations
            .push(violation);
    }

    pub fn violations(&self) -> Vec<String> {
        self.inner.lock().expect("recorder lock").violations.clone()
    }

    pub fn pairs(&self) -> BTreeSet<(String, u16)> {
        self.inner.lock().expect("recorder lock").pairs.clone()
    }

    pub fn codes(&self) -> BTreeSet<(String, u16, String)> {
        self.inner.lock().expect("recorder lock").codes.clone()
    }

    /// How many exchanges have been recorded so far.
    pub fn len(&self) -> usize {
        self.inner.lock().expect("recorder lock").exchanges.len()
    }
}

/// A running proxy. Dropping it stops accepting and closes every connection it holds.
pub struct Proxy {
    pub addr: SocketAddr,
    tasks: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.tasks.abort();
    }
}

/// The body the proxy sends upstream.
type Upstream = BoxBody<Bytes, Infallible>;

/// A request header for the proxy itself (never forwarded): send the first half of the body,
/// then wait this many milliseconds before the rest, as a slow client would.
pub const STALL_BODY: &str = "x-proxy-stall-body-ms";

/// Headers that describe one hop, not the message; the proxy sets its own.
const HOP_BY_HOP: [&str; 5] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "upgrade",
];

impl Proxy {
    /// Listens on 127.0.0.1:0 and forwards to `upstream`. It is accepting when this returns.
    pub async fn start(upstream: SocketAddr, recorder: Arc<Recorder>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let client: HyperClient<HttpConnector, Upstream> =
            HyperClient::builder(TokioExecutor::new()).build_http();
        let tasks = tokio::spawn(async move {
            // Connections live in this set, so aborting the accept loop closes them too.
            let mut connections = JoinSet::new();
            loop {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                };
                let Ok((stream, _)) = accepted else { continue };
                let client = client.clone();
                let recorder = recorder.clone();
                connections.spawn(async move {
                    let service = service_fn(move |request| {
                        forward(request, upstream, client.clone(), recorder.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, tasks })
    }
}

async fn forward(
    request: hyper::Request<Incoming>,
    upstream: SocketAddr,
    client: HyperClient<HttpConnector, Upstream>,
    recorder: Arc<Recorder>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let request_body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            recorder.violation(format!("proxy: reading the request body: {error}"));
            return Ok(bad_gateway());
        }
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let mut upstream_request = hyper::Request::builder()
        .method(parts.method.clone())
        .uri(format!("http://{upstream}{path_and_query}"));
    for (name, value) in &parts.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) && name != STALL_BODY {
            upstream_request = upstream_request.header(name, value);
        }
    }
    let stall = parts
        .headers
        .get(STALL_BODY)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body: Upstream = match stall {
        None => Full::new(request_body.clone()).boxed(),
        Some(millis) => {
            // Declared whole, sent in two halves with a pause between them.
            upstream_request = upstream_request.header("content-length", request_body.len());
            let (first, rest) = request_body.split_at(request_body.len() / 2);
            let (first, rest) = (Bytes::copy_from_slice(first), Bytes::copy_from_slice(rest));
            let later = async move {
                tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
                Ok::<_, Infallible>(hyper::body::Frame::data(rest))
            };
            let halves = futures::stream::once(async move {
                Ok::<_, Infallible>(hyper::body::Frame::data(first))
            })
            .chain(futures::stream::once(later));
            BodyExt::boxed(StreamBody::new(halves))
        }
    };
    let upstream_request = upstream_request
        .body(body)
        .expect("a request rebuilt from a valid one is valid");
    let response = match client.request(upstream_request).await {
        Ok(response) => response,
        Err(error) => {
            recorder.violation(format!(
                "proxy: {} {path_and_query}: the server did not answer: {error:?}",
                parts.method
            ));
            return Ok(bad_gateway());
        }
    };
    let (response_parts, response_body) = response.into_parts();
    let response_body = match response_body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            recorder.violation(format!("proxy: reading the response body: {error}"));
            return Ok(bad_gateway());
        }
    };
    recorder.record(Exchange {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        request_body,
        status: response_parts.status.as_u16(),
        response_headers: response_parts.headers.clone(),
        response_body: response_body.clone(),
    });
    let mut back = hyper::Response::builder().status(response_parts.status);
    for (name, value) in &response_parts.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            back = back.header(name, value);
        }
    }
    Ok(back
        .body(Full::new(response_body))
        .expect("a response rebuilt from a valid one is valid"))
}

fn bad_gateway() -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from_static(b"proxy error")));
    *response.status_mut() = hyper::StatusCode::BAD_GATEWAY;
    response
}
