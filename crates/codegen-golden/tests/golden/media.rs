//! Media types at work: forms (urlencoded and multipart) read by their schema, raw bodies both
//! ways, several success statuses of one shape, redirects, and JSON of any value.

use codegen_golden::media_api::{self, MediaApi};
use codegen_golden::{media_client, media_types as types};
use dropshot::{HttpResponseOk, HttpResponseUpdatedNoContent, RequestContext};
use http::StatusCode;
use serde_json::{Value, json};
use spec_runtime::{FormBody, JsonBody, NoContent, Params, RawBody, RawContent, Reply};

use crate::common::{read, serve};

enum Server {}

impl MediaApi for Server {
    type Context = ();

    async fn create_profile(
        _rqctx: RequestContext<()>,
        body: JsonBody<types::Profile>,
    ) -> Result<Reply<200, types::Profile>, media_api::ApiError> {
        let profile = body.read(&Default::default()).await.into_inner()?;
        // The spec documents 200 (updated) and 201 (created) with one body.
        let status = match profile.handle.as_str() {
            "existing" => StatusCode::OK,
            _ => StatusCode::CREATED,
        };
        Ok(Reply::new(profile).with_status(status))
    }

    async fn login(
        _rqctx: RequestContext<()>,
        body: FormBody<types::LoginBody>,
    ) -> Result<Reply<200>, media_api::ApiError> {
        let login = body.read(&Default::default()).await.into_inner()?;
        let mut reply = Reply::new(NoContent);
        if login.remember {
            // The 302 the spec documents beside the 200.
            reply
                .headers_mut()
                .insert("location", "/home".parse().unwrap());
            reply = reply.with_status(StatusCode::FOUND);
        }
        Ok(reply)
    }

    async fn upload_avatar(
        _rqctx: RequestContext<()>,
        body: FormBody<types::UploadAvatarBody>,
    ) -> Result<Reply<202>, media_api::ApiError> {
        body.read(&Default::default()).await.into_inner()?;
        Ok(Reply::new(NoContent))
    }

    async fn download(
        _rqctx: RequestContext<()>,
        path: Params<media_api::DownloadPath>,
    ) -> Result<Reply<200, RawContent>, media_api::ApiError> {
        let name = path.into_inner()?.name;
        Ok(Reply::new(RawContent::new(
            "application/octet-stream",
            format!("bytes of {name}"),
        )))
    }

    async fn upload(
        _rqctx: RequestContext<()>,
        path: Params<media_api::UploadPath>,
        body: RawBody,
    ) -> Result<HttpResponseUpdatedNoContent, media_api::ApiError> {
        path.into_inner()?;
        let bytes = body
            .read(&Default::default())
            .await
            .into_inner(media_api::UPLOAD_MEDIA_TYPES)?;
        assert!(!bytes.is_empty());
        Ok(HttpResponseUpdatedNoContent())
    }

    async fn readme(
        _rqctx: RequestContext<()>,
    ) -> Result<Reply<200, RawContent>, media_api::ApiError> {
        Ok(Reply::new(RawContent::new("text/plain", "read me")))
    }

    async fn echo(
        _rqctx: RequestContext<()>,
        body: JsonBody<Value>,
    ) -> Result<HttpResponseOk<Value>, media_api::ApiError> {
        Ok(HttpResponseOk(
            body.read(&Default::default()).await.into_inner()?,
        ))
    }

    async fn moved(
        _rqctx: RequestContext<()>,
    ) -> Result<Reply<301, NoContent, media_api::MovedResponseHeaders>, media_api::ApiError> {
        Ok(Reply::with_headers(
            NoContent,
            media_api::MovedResponseHeaders {
                location: Some("/new".to_string()),
            },
        ))
    }
}

async fn start() -> (dropshot::HttpServer<()>, String) {
    let api = media_api::media_api_mod::api_description::<Server>().unwrap();
    serve(api, ()).await
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_form_is_read_by_its_schema_and_each_bad_field_named() {
    let (_server, url) = start().await;
    let response = no_redirects()
        .post(format!("{url}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("user=ab&remember=maybe&attempts=9")
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, 400, "{body}");
    // The spec documents no 400, so the rejection is the fallback body.
    assert_eq!(body["code"], "validation_error", "{body}");
    let mut properties: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["property"].as_str().unwrap())
        .collect();
    properties.sort();
    assert_eq!(properties, ["/attempts", "/remember", "/user"], "{body}");

    // A valid form, through the generated client; `remember` answers the spec's 302.
    let client = media_client::Client::new_with_client(&url, no_redirects());
    let form = media_client::types::LoginBody {
        user: "ada".parse().unwrap(),
        remember: false,
        attempts: Some(1),
    };
    let ok = client.login().body(form).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let response = no_redirects()
        .post(format!("{url}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("user=ada&remember=true")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/home");
}

#[tokio::test]
async fn a_multipart_form_is_read_field_by_field() {
    let (_server, url) = start().await;
    let multipart = |size: &str| {
        format!(
            "--XYZ\r\ncontent-disposition: form-data; name=\"name\"\r\n\r\nada\r\n\
             --XYZ\r\ncontent-disposition: form-data; name=\"size\"\r\n\r\n{size}\r\n--XYZ--\r\n"
        )
    };
    let send = |body: String| {
        reqwest::Client::new()
            .put(format!("{url}/avatars"))
            .header("content-type", "multipart/form-data; boundary=XYZ")
            .body(body)
            .send()
    };
    let (status, _) = read(send(multipart("12")).await.unwrap()).await;
    assert_eq!(status, 202);
    let (status, body) = read(send(multipart("big")).await.unwrap()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"][0]["property"], "/size", "{body}");
}

#[tokio::test]
async fn raw_bodies_go_both_ways_with_their_media_types() {
    let (_server, url) = start().await;
    let client = media_client::Client::new(&url);
    let stored = client
        .upload()
        .name("cat.png")
        .body(b"\x89PNG....".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 204);
    // A media type the spec does not list is refused.
    let response = reqwest::Client::new()
        .put(format!("{url}/files/cat.png"))
        .header("content-type", "text/html")
        .body("<p>")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    let file = reqwest::get(format!("{url}/files/a.bin")).await.unwrap();
    assert_eq!(file.headers()["content-type"], "application/octet-stream");
    assert_eq!(file.text().await.unwrap(), "bytes of a.bin");
    let readme = reqwest::get(format!("{url}/readme")).await.unwrap();
    assert_eq!(readme.headers()["content-type"], "text/plain");
}

#[tokio::test]
async fn one_body_several_statuses_and_any_json() {
    let (_server, url) = start().await;
    let client = media_client::Client::new(&url);
    let profile = |handle: &str| media_client::types::Profile {
        handle: handle.parse().unwrap(),
        bio: None,
    };
    let created = client
        .create_profile()
        .body(profile("new_one"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let updated = client
        .create_profile()
        .body(profile("existing"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 200);
    // `application/json; charset=utf-8` is JSON; the pattern is the spec's.
    let response = reqwest::Client::new()
        .post(format!("{url}/profiles"))
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"handle": "No Spaces!"}"#)
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"][0]["property"], "/handle", "{body}");

    let echoed = client
        .echo()
        .body(json!({"any": [1, "json"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.into_inner(), json!({"any": [1, "json"]}));

    let moved = no_redirects()
        .get(format!("{url}/old"))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 301);
    assert_eq!(moved.headers()["location"], "/new");
}
