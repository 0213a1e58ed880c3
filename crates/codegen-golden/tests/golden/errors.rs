//! Error bodies of every shape, served: a rejection in the spec's problem details, a status
//! documented without a body, and the fallback body where the spec's cannot carry it.

use codegen_golden::errors_api::{self, ErrorsApi};
use codegen_golden::errors_types as types;
use dropshot::{
    ErrorStatusCode, HttpResponseCreated, HttpResponseDeleted, HttpResponseOk, RequestContext,
};
use serde_json::json;
use spec_runtime::{JsonBody, Params};

use crate::common::{post, read, serve};

enum Server {}

impl ErrorsApi for Server {
    type Context = ();

    async fn create_order(
        _rqctx: RequestContext<()>,
        body: JsonBody<types::Order>,
    ) -> Result<HttpResponseCreated<types::Order>, errors_api::ApiError> {
        let order = body.read(&Default::default()).await.into_inner()?;
        if order.sku.as_str() == "DUP-0001" {
            // The 409 has a body of its own.
            return Err(errors_api::ApiError::new(
                ErrorStatusCode::CONFLICT,
                types::ApiErrorBody::Conflict(types::Conflict {
                    existing: "order-1".to_string(),
                }),
            ));
        }
        Ok(HttpResponseCreated(order))
    }

    async fn get_order(
        _rqctx: RequestContext<()>,
        path: Params<errors_api::GetOrderPath>,
    ) -> Result<HttpResponseOk<types::Order>, errors_api::GetOrderError> {
        path.into_inner()?;
        Err(errors_api::GetOrderError::empty(ErrorStatusCode::NOT_FOUND))
    }

    async fn cancel_order(
        _rqctx: RequestContext<()>,
        path: Params<errors_api::CancelOrderPath>,
        query: Params<errors_api::CancelOrderQuery>,
    ) -> Result<HttpResponseDeleted, errors_api::CancelOrderError> {
        path.into_inner()?;
        query.into_inner()?;
        Ok(HttpResponseDeleted())
    }
}

async fn start() -> (dropshot::HttpServer<()>, String) {
    let api = errors_api::errors_api_mod::api_description::<Server>().unwrap();
    serve(api, ()).await
}

#[tokio::test]
async fn a_rejection_is_the_specs_problem_details() {
    let (_server, url) = start().await;
    let (status, body) = post(&url, "/orders", json!({"sku": "nope", "quantity": 100})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["type"], "about:blank");
    assert_eq!(body["title"], "Bad Request");
    assert_eq!(body["status"], 400);
    let mut pointers: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    pointers.sort();
    assert_eq!(pointers, ["/quantity", "/sku"], "{body}");

    let (status, body) = post(&url, "/orders", json!({"sku": "DUP-0001", "quantity": 1})).await;
    assert_eq!((status, body), (409, json!({"existing": "order-1"})));
}

#[tokio::test]
async fn a_status_without_a_body_and_the_fallback_body() {
    let (_server, url) = start().await;
    let order = "0b6f5a8e-3c1d-4e2f-9a7b-1c2d3e4f5a6b";
    let (status, body) = read(reqwest::get(format!("{url}/orders/{order}")).await.unwrap()).await;
    // Dropshot gives every error a JSON body: `null` for the spec's bodiless 404.
    assert_eq!((status, body), (404, json!(null)));

    // No 400 documented: the rejection itself is the body.
    let (status, body) = read(
        reqwest::get(format!("{url}/orders/not-a-uuid"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "validation_error");
    assert_eq!(body["details"][0]["property"], "path/orderId", "{body}");

    // A 400 body that requires what a rejection lacks (`traceId`): the fallback, too.
    let response = reqwest::Client::new()
        .delete(format!("{url}/orders/{order}?reason=boredom"))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"][0]["property"], "query/reason", "{body}");
    assert!(body.get("traceId").is_none(), "{body}");
}
