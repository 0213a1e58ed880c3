//! Parameters at work: arrays in every style, a default written as text, a parameter without
//! a type, two names with one Rust name, a `$ref` to a scalar, and response headers that are
//! not strings.

use codegen_golden::parameters_api::{self, ParametersApi};
use codegen_golden::{parameters_client, parameters_types as types};
use dropshot::{HttpResponseHeaders, HttpResponseOk, RequestContext};
use serde_json::Value;
use spec_runtime::{Header, Params};

use crate::common::{read, serve};

enum Server {}

impl ParametersApi for Server {
    type Context = ();

    async fn list_items(
        _rqctx: RequestContext<()>,
        path: Params<parameters_api::ListItemsPath>,
        query: Params<parameters_api::ListItemsQuery>,
        headers: Params<parameters_api::ListItemsHeaders>,
    ) -> Result<
        HttpResponseHeaders<
            HttpResponseOk<types::ItemPage>,
            parameters_api::ListItemsResponseHeaders,
        >,
        parameters_api::ListItemsError,
    > {
        let (path, query, headers) = (
            path.into_inner()?,
            query.into_inner()?,
            headers.into_inner()?,
        );
        // What the handler was given, echoed in a header for the test to read.
        let seen = format!(
            "store={} tags={:?} colours={:?} page[size]={} page_size={:?} cursor={:?} region={:?} features={:?} limit={}",
            path.store_id,
            query.tags,
            query.colours,
            query.page_size,
            query.page_size_2,
            query.cursor,
            query.region,
            headers.x_features,
            query.limit,
        );
        Ok(HttpResponseHeaders::new(
            HttpResponseOk(types::ItemPage { items: Vec::new() }),
            parameters_api::ListItemsResponseHeaders {
                x_rate_limit: Header(60),
                x_partial: Some(Header(false)),
                x_next: Some(seen),
            },
        ))
    }

    async fn summarize(
        _rqctx: RequestContext<()>,
        path: Params<parameters_api::SummarizePath>,
    ) -> Result<HttpResponseOk<types::SummarizeResponse>, parameters_api::ApiError> {
        Ok(HttpResponseOk(
            (path.into_inner()?.store_ids.len() as i64).into(),
        ))
    }

    async fn get_item(
        _rqctx: RequestContext<()>,
        path: Params<parameters_api::GetItemPath>,
        query: Params<parameters_api::GetItemQuery>,
    ) -> Result<HttpResponseOk<types::Item>, parameters_api::ApiError> {
        query.into_inner()?;
        Ok(HttpResponseOk(types::Item {
            sku: path.into_inner()?.sku,
            size: None,
        }))
    }
}

async fn start() -> (dropshot::HttpServer<()>, String) {
    let api = parameters_api::parameters_api_mod::api_description::<Server>().unwrap();
    serve(api, ()).await
}

const STORE: &str = "0b6f5a8e-3c1d-4e2f-9a7b-1c2d3e4f5a6b";

async fn list(url: &str, query: &str) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = reqwest::Client::new()
        .get(format!("{url}/stores/{STORE}/items?{query}"))
        .header("x-request-id", "r1")
        .header("x-features", "dark,beta")
        .send()
        .await
        .unwrap();
    let headers = response.headers().clone();
    let (status, body) = read(response).await;
    (status, body, headers)
}

#[tokio::test]
async fn arrays_in_every_style_reach_the_handler_typed() {
    let (_server, url) = start().await;
    let (status, body, headers) = list(
        &url,
        "tags=a,b&colours=red%7Cblue&page%5Bsize%5D=5&page_size=7&cursor=xyz&region=eu-west",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        headers["x-next"],
        format!(
            "store={STORE} tags=[\"a\", \"b\"] colours=[\"red\", \"blue\"] page[size]=5 page_size=Some(7) \
             cursor=Some(\"xyz\") region=Some(\"eu-west\") features=[\"dark\", \"beta\"] limit=20"
        )
        .as_str()
    );
    // Headers of other types than strings, as their text.
    assert_eq!(headers["x-rate-limit"], "60");
    assert_eq!(headers["x-partial"], "false");
    // The default the spec writes as text (`"10"`) is the integer 10.
    let (_, _, headers) = list(&url, "").await;
    assert!(
        headers["x-next"]
            .to_str()
            .unwrap()
            .contains("page[size]=10 "),
        "{headers:?}"
    );
}

#[tokio::test]
async fn a_bad_item_of_an_array_parameter_is_named() {
    let (_server, url) = start().await;
    for (query, property) in [
        ("tags=abcdefghijkl,b", "query/tags"),
        ("colours=red%7Cpink", "query/colours"),
        ("itemId=not-a-uuid", "query/itemId"),
        ("region=EU", "query/region"),
        ("limit=500", "query/limit"),
    ] {
        let (status, body, _) = list(&url, query).await;
        assert_eq!(status, 400, "{query}: {body}");
        // The spec's error body (`code`, `message`) has no list for details: the message
        // names the property.
        assert_eq!(body["code"], "validation_error", "{query}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("{property}: ")),
            "{query}: {body}"
        );
    }
    // Several problems: every one is in the message.
    let (_, body, _) = list(&url, "limit=0&region=EU").await;
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("query/limit: ") && message.contains("query/region: "),
        "{body}"
    );
    let response = reqwest::get(format!("{url}/summaries/{STORE},nope"))
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"][0]["property"], "path/storeIds", "{body}");
    let response = reqwest::get(format!("{url}/summaries/{STORE},{STORE}"))
        .await
        .unwrap();
    assert_eq!(read(response).await, (200, serde_json::json!(2)));
}

#[tokio::test]
async fn the_generated_client_sends_what_the_server_reads() {
    let (_server, url) = start().await;
    let client = parameters_client::Client::new(&url);
    let response = client
        .list_items()
        .store_id(STORE.parse::<uuid::Uuid>().unwrap())
        .x_request_id("r2")
        .tags(vec!["x".parse().unwrap(), "y".parse().unwrap()])
        .x_features("dark")
        .send()
        .await
        .unwrap();
    let seen = response.headers()["x-next"].to_str().unwrap().to_string();
    assert!(seen.contains("tags=[\"x\", \"y\"]"), "{seen}");
    assert!(seen.contains("features=[\"dark\"]"), "{seen}");
}

/// Path variables read the same whether the path is plain (read by the operation's template)
/// or spelled so that dropshot's router decodes or normalizes it (read by dropshot's extractor):
/// percent-escapes, empty segments, a trailing slash. A bad variable is named either way.
#[tokio::test]
async fn path_variables_read_the_same_however_the_path_spells_them() {
    let (_server, url) = start().await;
    let get = |path: String| {
        let url = format!("{url}{path}");
        async move { read(reqwest::get(url).await.unwrap()).await }
    };
    for path in [
        format!("/stores/{STORE}/items/AB-12"),
        format!("/stores/{STORE}/items/%41B-12"),
        format!("//stores/{STORE}//items/AB-12/"),
    ] {
        let (status, body) = get(path.clone()).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["sku"], "AB-12", "{path}");
    }
    for (path, property) in [
        (format!("/stores/{STORE}/items/ab-12"), "path/sku"),
        (format!("/stores/{STORE}/items/A%2FB"), "path/sku"),
        ("/stores/not-a-uuid/items/AB-12".to_string(), "path/storeId"),
        (
            "/stores/not-a-uuid/items/AB%2D12".to_string(),
            "path/storeId",
        ),
    ] {
        let (status, body) = get(path.clone()).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["details"][0]["property"], property, "{path}: {body}");
    }
}
