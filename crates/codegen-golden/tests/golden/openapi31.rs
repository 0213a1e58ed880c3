//! An OpenAPI 3.1 document served: its 3.1 constraints (a numeric `exclusiveMinimum`, `const`,
//! a type array with `"null"`, `additionalProperties: false`) hold at run time, each rejection
//! naming its property in the spec's own error body.

use codegen_golden::openapi31_api::{self, Openapi31Api};
use codegen_golden::openapi31_types as types;
use dropshot::{HttpResponseCreated, RequestContext};
use serde_json::json;

use crate::common::{post, serve};

enum Server {}

impl Openapi31Api for Server {
    type Context = ();

    async fn create_payment(
        _rqctx: RequestContext<()>,
        body: spec_runtime::JsonBody<types::PaymentRequest>,
    ) -> Result<HttpResponseCreated<types::Payment>, openapi31_api::ApiError> {
        let request = body.read(&Default::default()).await.into_inner()?;
        Ok(HttpResponseCreated(types::Payment {
            id: uuid::Uuid::nil(),
            amount: request.amount,
            payer: None,
            settled_at: None,
        }))
    }
}

#[tokio::test]
async fn the_3_1_constraints_hold_and_name_their_property() {
    let api = openapi31_api::openapi31_api_mod::api_description::<Server>().unwrap();
    let (_server, url) = serve(api, ()).await;
    let valid = json!({"amount": 49.99, "currency": "EUR", "reference": null, "method": null});
    let (status, body) = post(&url, "/payments", valid).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["amount"], 49.99);

    for (request, property) in [
        (json!({"amount": 0, "currency": "EUR"}), "/amount"),
        (json!({"amount": 1, "currency": "USD"}), "/currency"),
        (
            json!({"amount": 1, "currency": "EUR", "reference": "x".repeat(21)}),
            "/reference",
        ),
        (
            json!({"amount": 1, "currency": "EUR", "method": "cash"}),
            "/method",
        ),
        (json!({"amount": 1, "currency": "EUR", "tip": 1}), "/tip"),
    ] {
        let (status, body) = post(&url, "/payments", request.clone()).await;
        assert_eq!(status, 400, "{request}: {body}");
        let text = body.to_string();
        assert!(text.contains(property), "{request}: {body}");
    }
}
