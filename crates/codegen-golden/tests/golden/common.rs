//! Proving a trait and serving one.

use std::path::Path;

use dropshot::{ApiDescription, ApiDescriptionBuildErrors, StubContext};

/// Proves the trait whose stub description is `description` against `tests/corpus/<spec>.yaml`.
pub fn prove(
    spec: &str,
    description: Result<ApiDescription<StubContext>, ApiDescriptionBuildErrors>,
) {
    proved(spec, description, codegen::roundtrip::prove);
}

/// Proves the webhook receiver whose stub description is `description` against the
/// `x-webhooks` of `tests/corpus/<spec>.yaml`.
pub fn prove_webhooks(
    spec: &str,
    description: Result<ApiDescription<StubContext>, ApiDescriptionBuildErrors>,
) {
    proved(spec, description, codegen::roundtrip::prove_webhooks);
}

fn proved(
    spec: &str,
    description: Result<ApiDescription<StubContext>, ApiDescriptionBuildErrors>,
    proof: fn(&Path, &serde_json::Value) -> Result<(), String>,
) {
    let description = description.expect("it registers with dropshot");
    let derived = description
        .openapi(spec, semver::Version::new(1, 0, 0))
        .json()
        .expect("dropshot renders its document");
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../codegen/tests/corpus")
        .join(format!("{spec}.yaml"));
    if let Err(report) = proof(&path, &derived) {
        panic!("{report}");
    }
}

/// A server for `api` on 127.0.0.1 (any free port), and its base URL; it stops when the
/// returned server is dropped... or at the end of the test's runtime.
pub async fn serve<C: dropshot::ServerContext>(
    api: ApiDescription<C>,
    context: C,
) -> (dropshot::HttpServer<C>, String) {
    let log = slog::Logger::root(slog::Discard, slog::o!());
    let config = dropshot::ConfigDropshot {
        bind_address: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    let server = dropshot::ServerBuilder::new(api, context, log)
        .config(config)
        .start()
        .expect("the server starts");
    let url = format!("http://{}", server.local_addr());
    (server, url)
}

/// Sends `body` as JSON with `method` to `url` + `path`; the status and the JSON body (`null`
/// when there is none).
pub async fn send(
    method: reqwest::Method,
    url: &str,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .request(method, format!("{url}{path}"))
        .json(&body)
        .send()
        .await
        .expect("the server answers");
    read(response).await
}

/// POSTs `body` as JSON.
pub async fn post(url: &str, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    send(reqwest::Method::POST, url, path, body).await
}

/// A response's status and JSON body (`null` when empty, the text as a string when not JSON).
pub async fn read(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let body = match text.is_empty() {
        true => serde_json::Value::Null,
        false => serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    };
    (status, body)
}
