//! The endpoints: the generated trait, implemented thinly over the store.

use std::future::Future;

use connect_api::{
    AddUserToCustomerPath, ApiError, ConnectApi, GetCustomerPath, GetUserPath,
    IdempotencyKeyHeaders, IdempotentReplayedResponseHeaders, ListCustomersQuery, ListUsersQuery,
    RemoveUserFromCustomerPath, RemoveUserFromCustomerQuery, UpdateCustomerBillingPath,
    UpdateCustomerPath, UpdateUserPath,
};
use connect_types as types;
use dropshot::{
    Body, ErrorStatusCode, HttpCodedResponse, HttpError, HttpResponseCreated, HttpResponseDeleted,
    HttpResponseHeaders, HttpResponseOk, RequestContext,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use spec_runtime::{JsonBody, Params, Validated};
use uuid::Uuid;

use crate::ServerContext;
use crate::auth::Tenant;
use crate::idempotency::{Begin, Fingerprint, Outcome};
use crate::store::{CustomerFilter, Listing, Page, PageRequest, UserFilter, UserKey};

/// The implementation of the generated trait.
pub enum ConnectServer {}

type Rq = RequestContext<ServerContext>;

/// Runs a handler body for an authenticated tenant and puts the request id into error bodies.
/// The tenant goes to the request's log line (which dropshot writes; never the key).
async fn handle<T, F, Fut>(rqctx: &Rq, body: F) -> Result<T, ApiError>
where
    F: FnOnce(Tenant) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let result = match authenticate(rqctx) {
        Ok(tenant) => {
            rqctx
                .context()
                .tenants
                .note(&rqctx.request_id, &tenant.0, rqctx.request.remote_addr());
            body(tenant).await
        }
        Err(error) => Err(error),
    };
    result.map_err(|mut error| {
        if let Some(body) = error.spec_body_mut() {
            body.request_id
                .get_or_insert_with(|| rqctx.request_id.clone());
        }
        error
    })
}

/// The tenant of the request's key. Two `X-API-Key` headers are refused like a wrong key
/// (whichever one was meant, taking either silently would hide a client's bug).
fn authenticate(rqctx: &Rq) -> Result<Tenant, ApiError> {
    let unauthorized =
        |message: &str| ApiError::with_code(ErrorStatusCode::UNAUTHORIZED, "unauthorized", message);
    // A `HeaderName` constant: a `&str` would be parsed (lower-cased, checked) on every request.
    static X_API_KEY: http::HeaderName = http::HeaderName::from_static("x-api-key");
    let mut presented = rqctx.request.headers().get_all(&X_API_KEY).iter();
    let key = presented.next().map(|v| v.as_bytes()).unwrap_or_default();
    if presented.next().is_some() {
        return Err(unauthorized(
            "exactly one X-API-Key header is required; this request has several",
        ));
    }
    rqctx
        .context()
        .keys
        .tenant_for(key)
        .ok_or_else(|| unauthorized("a valid X-API-Key header is required"))
}

/// What a write under the spec's idempotency convention answers: the handler's response, with
/// `Idempotent-Replayed` when it is a kept one.
type Keyed<W> = Result<HttpResponseHeaders<W, IdempotentReplayedResponseHeaders>, ApiError>;

/// A write with a JSON body under the spec's idempotency convention (`X-Idempotency-Key` in,
/// `Idempotent-Replayed` out), written once for every such operation: authenticates, reads the
/// body, checks the key, then runs `write` with the decoded body under the key (see [`keyed`])
/// and answers `wrap` of its value.
async fn keyed_write<B, T, W, F, Fut>(
    rq: &Rq,
    headers: Params<IdempotencyKeyHeaders>,
    body: JsonBody<B>,
    wrap: fn(T) -> W,
    write: F,
) -> Keyed<W>
where
    B: Validated,
    T: Serialize + DeserializeOwned,
    W: HttpCodedResponse,
    F: FnOnce(Tenant, B) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    handle(rq, |tenant| async move {
        let body = body.read(&rq.context().body).await;
        let key = headers.into_inner()?.x_idempotency_key;
        // Only a keyed request is fingerprinted: its body is hashed where it lies.
        let claim = key.map(|key| (key, fingerprint(rq, body.bytes())));
        let run = async {
            let request = body.into_inner()?;
            write(tenant.clone(), request).await
        };
        keyed(rq, &tenant, claim, wrap, run).await
    })
    .await
}

/// [`keyed_write`] for a write without a body.
async fn keyed_call<T, W, F, Fut>(
    rq: &Rq,
    headers: Params<IdempotencyKeyHeaders>,
    wrap: fn(T) -> W,
    write: F,
) -> Keyed<W>
where
    T: Serialize + DeserializeOwned,
    W: HttpCodedResponse,
    F: FnOnce(Tenant) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    handle(rq, |tenant| async move {
        let key = headers.into_inner()?.x_idempotency_key;
        let claim = key.map(|key| (key, fingerprint(rq, Some(&[]))));
        let run = write(tenant.clone());
        keyed(rq, &tenant, claim, wrap, run).await
    })
    .await
}

/// What identifies a request under its idempotency key: method, path and query,
/// `Content-Type`, and the body's bytes (`None`: a body that could not be read).
fn fingerprint(rq: &Rq, body: Option<&[u8]>) -> Fingerprint {
    let request = &rq.request;
    let uri = request.uri();
    let path_and_query = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let content_type = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .map(|value| value.as_bytes());
    rq.context().idempotency.fingerprint(
        request.method().as_str(),
        path_and_query,
        content_type,
        body,
    )
}

/// Runs `run`, under the request's idempotency key when it has one (`claim`: the key and the
/// request's fingerprint): a kept outcome of an identical request is replayed instead, and
/// this one's outcome is kept (see [`crate::idempotency`]).
async fn keyed<T, W, Fut>(
    rq: &Rq,
    tenant: &Tenant,
    claim: Option<(String, Fingerprint)>,
    wrap: fn(T) -> W,
    run: Fut,
) -> Keyed<W>
where
    T: Serialize + DeserializeOwned,
    W: HttpCodedResponse,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let answer = |value: T, replayed: bool| {
        HttpResponseHeaders::new(
            wrap(value),
            IdempotentReplayedResponseHeaders {
                idempotent_replayed: replayed.then(|| "true".to_string()),
            },
        )
    };
    let Some((key, fingerprint)) = claim else {
        return Ok(answer(run.await?, false));
    };
    match rq.context().idempotency.begin(tenant, &key, fingerprint)? {
        Begin::Replay(outcome) => Ok(answer(outcome.replay()?, true)),
        Begin::Run(guard) => {
            // The kept response is the whole response, its request id included.
            let result = run.await.map_err(|mut error| {
                if let Some(body) = error.spec_body_mut() {
                    body.request_id.get_or_insert_with(|| rq.request_id.clone());
                }
                error
            });
            guard.finish(Outcome::of(&result));
            Ok(answer(result?, false))
        }
    }
}

/// Waits for room to build a page (see [`crate::PAGE_BYTES_IN_FLIGHT`]); the room is given back
/// when the guard drops, as the handler returns and its page is serialized (on the same task,
/// without waiting). A page larger than the whole budget waits for all of it.
async fn page_room<'a>(
    rqctx: &'a Rq,
    tenant: &Tenant,
    listing: Listing,
    limit: u64,
) -> tokio::sync::SemaphorePermit<'a> {
    let context = rqctx.context();
    let bytes = context.store.page_bytes(tenant, listing, limit).await;
    let permits =
        crate::page_permits(bytes).min(crate::page_permits(context.limits.page_bytes_in_flight));
    context
        .pages
        .acquire_many(u32::try_from(permits).unwrap_or(u32::MAX))
        .await
        .expect("the page budget is never closed")
}

/// Path ids are plain strings in the spec, so that a malformed id is simply not found.
fn path_id(text: &str, what: &'static str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| crate::store::StoreError::NotFound(what).into())
}

fn pagination<T>(
    rqctx: &Rq,
    tenant: &Tenant,
    listing: Listing,
    found: &Page<T>,
    page: PageRequest,
) -> types::Pagination {
    let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    types::Pagination {
        total: int(found.total),
        limit: int(page.limit),
        offset: int(if page.after.is_some() {
            found.start
        } else {
            page.offset
        }),
        sort: types::Sort {
            key: "createdAt".to_string(),
            direction: types::SortDirection::Asc,
        },
        next_cursor: found
            .next
            .map(|position| rqctx.context().cursors.issue(tenant, listing, position)),
    }
}

/// The page a list request asks for: its bounds (checked already against the spec) and the
/// position its cursor names.
fn page_request(
    rqctx: &Rq,
    tenant: &Tenant,
    listing: Listing,
    limit: i64,
    offset: i64,
    cursor: Option<&str>,
) -> Result<PageRequest, ApiError> {
    let after = match cursor {
        None => None,
        Some(cursor) => Some(
            rqctx
                .context()
                .cursors
                .read(tenant, listing, cursor)
                .ok_or_else(|| {
                    ApiError::from(spec_runtime::Rejection::validation(vec![
                        spec_runtime::Detail {
                            property: "query/cursor".into(),
                            code: "cursor".into(),
                            message: "is not a cursor this server gave for this list".into(),
                        },
                    ]))
                })?,
        ),
    };
    Ok(PageRequest {
        limit: u64::try_from(limit).unwrap_or(0),
        offset: u64::try_from(offset).unwrap_or(0),
        after,
    })
}

/// A list page under the spec's paging convention, written once for every list: authenticates,
/// checks the query (its `limit`, `offset` and `cursor` are `bounds` of it), waits for room to
/// build the page, runs `fetch`, and answers the items with their `pagination` (and the cursor
/// of the next page).
async fn paged<Q, T, F, Fut>(
    rq: &Rq,
    listing: Listing,
    query: Params<Q>,
    bounds: fn(&Q) -> (i64, i64, Option<&str>),
    fetch: F,
) -> Result<(Vec<T>, types::Pagination), ApiError>
where
    F: FnOnce(Tenant, Q, PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, crate::store::StoreError>>,
{
    handle(rq, |tenant| async move {
        let query = query.into_inner()?;
        let (limit, offset, cursor) = bounds(&query);
        let page = page_request(rq, &tenant, listing, limit, offset, cursor)?;
        let _room = page_room(rq, &tenant, listing, page.limit).await;
        let found = fetch(tenant.clone(), query, page).await?;
        let pagination = pagination(rq, &tenant, listing, &found, page);
        Ok((found.items, pagination))
    })
    .await
}

impl ConnectApi for ConnectServer {
    type Context = ServerContext;

    async fn list_users(
        rqctx: Rq,
        query: Params<ListUsersQuery>,
    ) -> Result<HttpResponseOk<types::UserPage>, ApiError> {
        let store = &rqctx.context().store;
        let bounds: fn(&ListUsersQuery) -> (i64, i64, Option<&str>) =
            |q| (q.limit, q.offset, q.cursor.as_deref());
        let (items, pagination) =
            paged(&rqctx, Listing::Users, query, bounds, |tenant, q, page| {
                let filter = UserFilter {
                    text: q.filter.filter(|text| !text.is_empty()),
                    customer_ids: q.customer_id,
                };
                async move { store.list_users(&tenant, &filter, page).await }
            })
            .await?;
        Ok(HttpResponseOk(types::UserPage { items, pagination }))
    }

    async fn create_user(
        rqctx: Rq,
        headers: Params<IdempotencyKeyHeaders>,
        body: JsonBody<types::CreateUserRequest>,
    ) -> Keyed<HttpResponseCreated<types::User>> {
        (rqctx.context().writes.clone())
            .run(async move {
                let store = &rqctx.context().store;
                let write = |tenant: Tenant, request| async move {
                    Ok(store.create_user(&tenant, request).await?)
                };
                keyed_write(&rqctx, headers, body, HttpResponseCreated, write).await
            })
            .await
    }

    async fn get_user(
        rqctx: Rq,
        path: Params<GetUserPath>,
    ) -> Result<HttpResponseOk<types::User>, ApiError> {
        let rq = &rqctx;
        handle(rq, |tenant| async move {
            let path = path.into_inner()?;
            let key = match path.user_id.strip_prefix("rid_") {
                Some(reference) => UserKey::ReferenceId(reference.to_string()),
                None => UserKey::Id(path_id(&path.user_id, "user")?),
            };
            Ok(HttpResponseOk(
                rq.context().store.get_user(&tenant, &key).await?,
            ))
        })
        .await
    }

    async fn update_user(
        rqctx: Rq,
        path: Params<UpdateUserPath>,
        headers: Params<IdempotencyKeyHeaders>,
        body: JsonBody<types::UpdateUserRequest>,
    ) -> Keyed<HttpResponseOk<types::User>> {
        (rqctx.context().writes.clone())
            .run(async move {
                let store = &rqctx.context().store;
                let write = |tenant: Tenant, request: types::UpdateUserRequest| async move {
                    let id = path_id(&path.into_inner()?.user_id, "user")?;
                    Ok(store.update_user(&tenant, id, request).await?)
                };
                keyed_write(&rqctx, headers, body, HttpResponseOk, write).await
            })
            .await
    }

    async fn verify_user_exists(
        rqctx: Rq,
        body: JsonBody<types::VerifyUserExistsRequest>,
    ) -> Result<HttpResponseOk<types::VerifyUserExistsResponse>, ApiError> {
        let rq = &rqctx;
        handle(rq, |tenant| async move {
            let body = body.read(&rq.context().body).await;
            let request = body.into_inner()?;
            let email = request.email.as_ref().map(|e| e.to_string());
            let msisdn = request.msisdn.as_ref().map(|m| m.to_string());
            let exists = rq
                .context()
                .store
                .user_exists(&tenant, email.as_deref(), msisdn.as_deref())
                .await?;
            let description = if exists {
                "a user with the given email or msisdn exists"
            } else {
                "no user has the given email or msisdn"
            };
            Ok(HttpResponseOk(types::VerifyUserExistsResponse {
                exists,
                description: Some(description.to_string()),
            }))
        })
        .await
    }

    async fn list_customers(
        rqctx: Rq,
        query: Params<ListCustomersQuery>,
    ) -> Result<HttpResponseOk<types::CustomerPage>, ApiError> {
        let store = &rqctx.context().store;
        let bounds: fn(&ListCustomersQuery) -> (i64, i64, Option<&str>) =
            |q| (q.limit, q.offset, q.cursor.as_deref());
        let listing = Listing::Customers;
        let (items, pagination) = paged(&rqctx, listing, query, bounds, |tenant, q, page| {
            let filter = CustomerFilter {
                text: q.filter.filter(|text| !text.is_empty()),
                customer_type: q.customer_type,
            };
            async move { store.list_customers(&tenant, &filter, page).await }
        })
        .await?;
        Ok(HttpResponseOk(types::CustomerPage { items, pagination }))
    }

    async fn create_customer(
        rqctx: Rq,
        headers: Params<IdempotencyKeyHeaders>,
        body: JsonBody<types::CreateCustomerRequest>,
    ) -> Keyed<HttpResponseCreated<types::Customer>> {
        (rqctx.context().writes.clone())
            .run(async move {
                let context = rqctx.context();
                let write = |tenant: Tenant, request| async move {
                    let customer = context.store.create_customer(&tenant, request).await?;
                    context.webhooks.customer_created(&tenant, &customer);
                    Ok(customer)
                };
                keyed_write(&rqctx, headers, body, HttpResponseCreated, write).await
            })
            .await
    }

    async fn get_customer(
        rqctx: Rq,
        path: Params<GetCustomerPath>,
    ) -> Result<HttpResponseOk<types::Customer>, ApiError> {
        let rq = &rqctx;
        handle(rq, |tenant| async move {
            let id = path_id(&path.into_inner()?.customer_id, "customer")?;
            Ok(HttpResponseOk(
                rq.context().store.get_customer(&tenant, id).await?,
            ))
        })
        .await
    }

    async fn update_customer(
        rqctx: Rq,
        path: Params<UpdateCustomerPath>,
        headers: Params<IdempotencyKeyHeaders>,
        body: JsonBody<types::UpdateCustomerRequest>,
    ) -> Keyed<HttpResponseOk<types::Customer>> {
        (rqctx.context().writes.clone())
            .run(async move {
                let context = rqctx.context();
                let write = |tenant: Tenant, request: types::UpdateCustomerRequest| async move {
                    let id = path_id(&path.into_inner()?.customer_id, "customer")?;
                    let customer = context.store.update_customer(&tenant, id, request).await?;
                    context.webhooks.customer_updated(&tenant, &customer);
                    Ok(customer)
                };
                keyed_write(&rqctx, headers, body, HttpResponseOk, write).await
            })
            .await
    }

    async fn update_customer_billing(
        rqctx: Rq,
        path: Params<UpdateCustomerBillingPath>,
        headers: Params<IdempotencyKeyHeaders>,
        body: JsonBody<types::Billing>,
    ) -> Keyed<HttpResponseOk<types::Customer>> {
        (rqctx.context().writes.clone())
            .run(async move {
                let context = rqctx.context();
                let write = |tenant: Tenant, billing: types::Billing| async move {
                    let id = path_id(&path.into_inner()?.customer_id, "customer")?;
                    let customer = context.store.update_billing(&tenant, id, billing).await?;
                    context.webhooks.customer_updated(&tenant, &customer);
                    Ok(customer)
                };
                keyed_write(&rqctx, headers, body, HttpResponseOk, write).await
            })
            .await
    }

    async fn add_user_to_customer(
        rqctx: Rq,
        path: Params<AddUserToCustomerPath>,
        headers: Params<IdempotencyKeyHeaders>,
        body: JsonBody<types::AddUserToCustomerRequest>,
    ) -> Keyed<HttpResponseCreated<types::CustomerUser>> {
        (rqctx.context().writes.clone())
            .run(async move {
                let context = rqctx.context();
                let write = |tenant: Tenant, request: types::AddUserToCustomerRequest| async move {
                    let customer = path_id(&path.into_inner()?.customer_id, "customer")?;
                    let role = request.role.unwrap_or_default();
                    let store = &context.store;
                    let link = store
                        .add_user(&tenant, customer, request.user_id, role)
                        .await?;
                    changed_links(context, &tenant, customer).await;
                    Ok(link)
                };
                keyed_write(&rqctx, headers, body, HttpResponseCreated, write).await
            })
            .await
    }

    async fn remove_user_from_customer(
        rqctx: Rq,
        path: Params<RemoveUserFromCustomerPath>,
        query: Params<RemoveUserFromCustomerQuery>,
        headers: Params<IdempotencyKeyHeaders>,
    ) -> Keyed<HttpResponseDeleted> {
        (rqctx.context().writes.clone())
            .run(async move {
                let context = rqctx.context();
                keyed_call(
                    &rqctx,
                    headers,
                    |()| HttpResponseDeleted(),
                    |tenant| async move {
                        let customer = path_id(&path.into_inner()?.customer_id, "customer")?;
                        let user = query.into_inner()?.user_id;
                        context.store.remove_user(&tenant, customer, user).await?;
                        changed_links(context, &tenant, customer).await;
                        Ok(())
                    },
                )
                .await
            })
            .await
    }
}

/// The source spec, outside the authenticated API (and outside the spec itself).
#[dropshot::endpoint { method = GET, path = "/openapi.yaml", unpublished = true }]
pub async fn openapi_yaml(_rqctx: Rq) -> Result<http::Response<Body>, HttpError> {
    http::Response::builder()
        .status(http::StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/yaml")
        .body(crate::SPEC_YAML.into())
        .map_err(|error| HttpError::for_internal_error(error.to_string()))
}

/// The API reference, rendered from the spec (`connect_api::DOCS_HTML`), outside the
/// authenticated API like the spec itself. Its policy forbids loading anything: the page is
/// self-contained, and a browser with no network shows all of it.
#[dropshot::endpoint { method = GET, path = "/docs", unpublished = true }]
pub async fn docs(_rqctx: Rq) -> Result<http::Response<Body>, HttpError> {
    http::Response::builder()
        .status(http::StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(
            http::header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
        )
        .body(connect_api::DOCS_HTML.into())
        .map_err(|error| HttpError::for_internal_error(error.to_string()))
}

/// `customer.updated` after a link change: the customer as it is now (read after the change).
async fn changed_links(context: &crate::ServerContext, tenant: &Tenant, customer: uuid::Uuid) {
    if let Ok(customer) = context.store.get_customer(tenant, customer).await {
        context.webhooks.customer_updated(tenant, &customer);
    }
}
