//! The server's bounds through its HTTP boundary: bodies that arrive too slowly or are too
//! large, requests without one key, tenants at their quota.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::DateTime;
use connect_server::Limits;
use connect_server::clock::ManualClock;
use connect_server::store::{InMemoryStore, Quotas};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{ACME, GLOBEX, Server, start, start_with_limits};

/// A server whose bodies must arrive within `body_timeout`, with these quotas.
fn server(body_timeout: Duration, quotas: Quotas) -> Server {
    let clock = Arc::new(ManualClock::new(DateTime::UNIX_EPOCH));
    let store = Arc::new(InMemoryStore::with_quotas(clock.clone(), quotas));
    start_with_limits(
        clock,
        store,
        Limits {
            body_timeout,
            ..Limits::default()
        },
    )
}

/// A response read off a raw connection: its status and its JSON body.
struct Raw {
    status: u16,
    body: Value,
}

/// Reads one response (a `Content-Length` body) from the stream.
async fn read_response(stream: &mut TcpStream) -> Raw {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut chunk).await.expect("the response");
        assert!(n > 0, "connection closed before a response: {buffer:?}");
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let status = head[9..12].parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .expect("a content-length");
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).await.expect("the body");
        assert!(n > 0, "connection closed inside the body");
        buffer.extend_from_slice(&chunk[..n]);
    }
    Raw {
        status,
        body: serde_json::from_slice(&buffer[head_end..head_end + length]).unwrap(),
    }
}

fn head(server: &Server, key: &str, extra: &str) -> String {
    let host = server.base.trim_start_matches("http://");
    format!(
        "POST /users HTTP/1.1\r\nhost: {host}\r\nx-api-key: {key}\r\ncontent-type: application/json\r\n{extra}\r\n"
    )
}

async fn connect(server: &Server) -> TcpStream {
    TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_a_408_and_stores_nothing() {
    let server = server(Duration::from_millis(300), Quotas::default());
    let mut stream = connect(&server).await;
    let started = Instant::now();
    stream
        .write_all(head(&server, ACME, "content-length: 100\r\n").as_bytes())
        .await
        .unwrap();
    stream.write_all(b"{\"name\": \"Ad").await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(10), read_response(&mut stream))
        .await
        .expect("answered well before the test's own timeout");
    let waited = started.elapsed();
    assert_eq!(reply.status, 408, "{}", reply.body);
    assert_eq!(reply.body["code"], "request_timeout");
    assert!(reply.body["requestId"].is_string());
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    // The connection is closed after the answer: the rest of the body is not a request.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(
        matches!(closed, Ok(Ok(_)) | Ok(Err(_))),
        "the connection stays open"
    );
    assert_eq!(server.user_total().await, 0);
}

#[tokio::test]
async fn a_body_is_not_read_before_the_key_is_checked() {
    // The body never comes; a wrong key is answered at once all the same.
    let server = server(Duration::from_secs(30), Quotas::default());
    let mut stream = connect(&server).await;
    stream
        .write_all(head(&server, "not-a-key", "content-length: 100000\r\n").as_bytes())
        .await
        .unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(5), read_response(&mut stream))
        .await
        .expect("answered without waiting for the body");
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body["code"], "unauthorized");
}

/// A client that sends a whole oversize body before it reads reads the 413, not a reset:
/// with `Content-Length` and chunked.
#[tokio::test]
async fn a_client_still_sending_an_oversize_body_reads_the_413() {
    let server = start();
    let body = vec![b' '; 3 * 1024 * 1024];
    for chunked in [false, true] {
        // A small send buffer, so that the body does not fit in the kernel's buffers: the
        // client's writes finish only if the server reads the body.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_send_buffer_size(64 * 1024).unwrap();
        let address = server.base.trim_start_matches("http://").parse().unwrap();
        let mut stream = socket.connect(address).await.unwrap();
        let framing = if chunked {
            "transfer-encoding: chunked\r\n".to_string()
        } else {
            format!("content-length: {}\r\n", body.len())
        };
        stream
            .write_all(head(&server, ACME, &framing).as_bytes())
            .await
            .unwrap();
        if chunked {
            for piece in body.chunks(64 * 1024) {
                let size = format!("{:x}\r\n", piece.len());
                stream.write_all(size.as_bytes()).await.unwrap();
                stream.write_all(piece).await.unwrap();
                stream.write_all(b"\r\n").await.unwrap();
            }
            stream.write_all(b"0\r\n\r\n").await.unwrap();
        } else {
            stream.write_all(&body).await.unwrap();
        }
        let reply = tokio::time::timeout(Duration::from_secs(10), read_response(&mut stream))
            .await
            .expect("answered");
        assert_eq!(reply.status, 413, "chunked: {chunked}");
        assert_eq!(reply.body["code"], "payload_too_large");
    }
    assert_eq!(server.user_total().await, 0);
}

#[tokio::test]
async fn two_api_key_headers_are_unauthorized_even_when_both_are_valid() {
    let server = start();
    for keys in [[ACME, ACME], [ACME, GLOBEX], [ACME, "wrong"]] {
        let response = server
            .http
            .post(format!("{}/users", server.base))
            .header("X-API-Key", keys[0])
            .header("X-API-Key", keys[1])
            .json(&json!({"name": "Ada"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{keys:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "unauthorized");
    }
    assert_eq!(server.user_total().await, 0);
    // One key is still enough.
    assert_eq!(server.get("/users").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_tenant_at_its_quota_gets_quota_exceeded_and_other_tenants_do_not() {
    let server = server(
        Duration::from_secs(10),
        Quotas {
            users: 2,
            customers: 1,
        },
    );
    server.user("Ada").await;
    server.user("Grace").await;
    let refused = server.post("/users", json!({"name": "Edsger"})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "quota_exceeded");
    assert_eq!(server.user_total().await, 2);
    // An invalid request is still told what is wrong with it.
    let invalid = server.post("/users", json!({"name": ""})).await;
    assert_eq!(invalid.code(), "validation_error");

    server.customer("Acme").await;
    let refused = server
        .post(
            "/customers",
            json!({"name": "Two", "customerType": "BUSINESS"}),
        )
        .await;
    assert_eq!(refused.code(), "quota_exceeded");
    assert_eq!(server.customer_total().await, 1);

    // The quota is per tenant.
    let other = server
        .send(
            Method::POST,
            "/users",
            Some(GLOBEX),
            &[],
            Some(json!({"name": "Barbara"})),
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED);
}
