//! `oneOf` with a discriminator, `anyOf`, `allOf` and recursion, served: a request that breaks
//! the branch it names is told which property is wrong.

use codegen_golden::schemas_api::{self, SchemasApi};
use codegen_golden::{schemas_client, schemas_types as types};
use dropshot::{HttpResponseCreated, HttpResponseOk, RequestContext};
use serde_json::{Value, json};

use crate::common::{post, serve};

enum Server {}

impl SchemasApi for Server {
    type Context = ();

    async fn add_pet(
        _rqctx: RequestContext<()>,
        body: spec_runtime::JsonBody<types::Pet>,
    ) -> Result<HttpResponseCreated<types::Pet>, schemas_api::AddPetError> {
        Ok(HttpResponseCreated(
            body.read(&Default::default()).await.into_inner()?,
        ))
    }

    async fn add_shape(
        _rqctx: RequestContext<()>,
        body: spec_runtime::JsonBody<types::AddShapeBody>,
    ) -> Result<HttpResponseOk<types::AddShapeResponse>, schemas_api::ApiError> {
        let area = match body.read(&Default::default()).await.into_inner()? {
            types::AddShapeBody::Circle(circle) => std::f64::consts::PI * circle.radius.powi(2),
            types::AddShapeBody::Square(square) => square.side * square.side,
        };
        Ok(HttpResponseOk(area.into()))
    }

    async fn put_tree(
        _rqctx: RequestContext<()>,
        body: spec_runtime::JsonBody<types::TreeNode>,
    ) -> Result<HttpResponseOk<types::Pagination2>, schemas_api::ApiError> {
        fn count(node: &types::TreeNode) -> usize {
            1 + node.children.iter().map(count).sum::<usize>()
        }
        let total = count(&body.read(&Default::default()).await.into_inner()?);
        Ok(HttpResponseOk(types::Pagination2 {
            next: Some(format!("nodes={total}")),
        }))
    }

    async fn get_user(
        _rqctx: RequestContext<()>,
        path: spec_runtime::Params<schemas_api::GetUserPath>,
    ) -> Result<HttpResponseOk<types::FullUser>, schemas_api::ApiError> {
        let id = path.into_inner()?.id;
        Ok(HttpResponseOk(types::FullUser {
            user: types::SimpleUser { login: id },
            invited_by: types::NullableSimpleUser(None),
        }))
    }
}

async fn start() -> (dropshot::HttpServer<()>, String) {
    let api = schemas_api::schemas_api_mod::api_description::<Server>().unwrap();
    serve(api, ()).await
}

#[tokio::test]
async fn the_discriminator_names_the_branch_and_the_rejection_the_property() {
    let (_server, url) = start().await;
    let (status, body) = post(&url, "/pets", json!({"kind": "cat", "lives": 12})).await;
    assert_eq!(status, 400, "{body}");
    // The spec's error body (`error`, `details` as text), filled from the rejection.
    assert_eq!(body["error"], "validation_error", "{body}");
    let details: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(details.len(), 1, "{body}");
    assert!(details[0].starts_with("/lives: "), "{body}");

    let (status, body) = post(&url, "/pets", json!({"kind": "dog"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"], json!(["/good: is required"]), "{body}");
}

#[tokio::test]
async fn valid_branches_go_through_the_generated_client() {
    let (_server, url) = start().await;
    let client = schemas_client::Client::new(&url);
    let cat = schemas_client::types::Pet::Cat(schemas_client::types::Cat {
        kind: schemas_client::types::CatKind::Cat,
        lives: std::num::NonZeroU64::new(7).unwrap(),
    });
    let created = client
        .add_pet()
        .body(cat)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(
        matches!(created, schemas_client::types::Pet::Cat(ref c) if c.lives.get() == 7),
        "{created:?}"
    );

    // `anyOf`: the first branch that fits takes the value.
    let (status, area) = post(&url, "/shapes", json!({"side": 3.0})).await;
    assert_eq!((status, area), (200, json!(9.0)));
    // Neither branch: the closest one says what is wrong.
    let (status, body) = post(&url, "/shapes", json!({"radius": 0})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"][0]["property"], "/radius", "{body}");
}

#[tokio::test]
async fn recursive_all_of_bodies_are_validated_all_the_way_down() {
    let (_server, url) = start().await;
    let tree = json!({"name": "root", "children": [{"name": "a", "children": [{"name": "b"}]}]});
    let (status, body) = put(&url, "/trees", tree).await;
    assert_eq!((status, body), (200, json!({"next": "nodes=3"})));
    let broken = json!({"name": "root", "children": [{"children": [{"name": 1}]}]});
    let (status, body) = put(&url, "/trees", broken).await;
    assert_eq!(status, 400, "{body}");
    let properties: Vec<&Value> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["property"])
        .collect();
    assert_eq!(
        properties,
        [
            &json!("/children/0/name"),
            &json!("/children/0/children/0/name")
        ],
        "{body}"
    );
}

async fn put(url: &str, path: &str, body: Value) -> (u16, Value) {
    crate::common::send(reqwest::Method::PUT, url, path, body).await
}
