//! The endpoints: the generated trait, implemented thinly over the store.

use std::future::Future;

use connect_api::{
    AddUserToCustomerHeaders, AddUserToCustomerPath, AddUserToCustomerResponseHeaders, ApiError,
    ConnectApi, CreateCustomerHeaders, CreateCustomerResponseHeaders, CreateUserHeaders,
    CreateUserResponseHeaders, GetCustomerPath, GetUserPath, ListCustomersQuery, ListUsersQuery,
    RemoveUserFromCustomerHeaders, RemoveUserFromCustomerPath, RemoveUserFromCustomerQuery,
    RemoveUserFromCustomerResponseHeaders, UpdateCustomerBillingHeaders, UpdateCustomerBillingPath,
    UpdateCustomerBillingResponseHeaders, UpdateCustomerHeaders, UpdateCustomerPath,
    UpdateCustomerResponseHeaders, UpdateUserHeaders, UpdateUserPath, UpdateUserResponseHeaders,
};
use connect_types as types;
use dropshot::{
    Body, ErrorStatusCode, HttpError, HttpResponseCreated, HttpResponseDeleted,
    HttpResponseHeaders, HttpResponseOk, RequestContext,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use spec_runtime::{JsonBody, Params};
use uuid::Uuid;

use crate::ServerContext;
use crate::auth::Tenant;
use crate::idempotency::{Begin, Outcome};
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
            rqctx.context().tenants.note(&rqctx.request_id, &tenant.0);
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
    let mut presented = rqctx.request.headers().get_all("x-api-key").iter();
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

/// Runs a write under its idempotency key, if it has one. Returns the value and whether it was
/// replayed from an earlier identical request.
async fn idempotent<T, Fut>(
    rqctx: &Rq,
    tenant: &Tenant,
    key: Option<&str>,
    body: Option<&[u8]>,
    run: Fut,
) -> Result<(T, bool), ApiError>
where
    T: Serialize + DeserializeOwned,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let Some(key) = key else {
        return run.await.map(|value| (value, false));
    };
    let keys = &rqctx.context().idempotency;
    let uri = rqctx.request.uri();
    let path_and_query = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let fingerprint = keys.fingerprint(rqctx.request.method().as_str(), path_and_query, body);
    match keys.begin(tenant, key, fingerprint)? {
        Begin::Replay(outcome) => outcome.replay().map(|value| (value, true)),
        Begin::Run(guard) => {
            // The kept response is the whole response, its request id included.
            let result = run.await.map_err(|mut error| {
                if let Some(body) = error.spec_body_mut() {
                    body.request_id
                        .get_or_insert_with(|| rqctx.request_id.clone());
                }
                error
            });
            guard.finish(Outcome::of(&result));
            result.map(|value| (value, false))
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

fn replayed(replayed: bool) -> Option<String> {
    replayed.then(|| "true".to_string())
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

impl ConnectApi for ConnectServer {
    type Context = ServerContext;

    async fn list_users(
        rqctx: Rq,
        query: Params<ListUsersQuery>,
    ) -> Result<HttpResponseOk<types::UserPage>, ApiError> {
        let rq = &rqctx;
        handle(rq, |tenant| async move {
            let query = query.into_inner()?;
            let page = page_request(
                rq,
                &tenant,
                Listing::Users,
                query.limit,
                query.offset,
                query.cursor.as_deref(),
            )?;
            let filter = UserFilter {
                text: query.filter.filter(|text| !text.is_empty()),
                customer_ids: query.customer_id,
            };
            let _room = page_room(rq, &tenant, Listing::Users, page.limit).await;
            let found = rq
                .context()
                .store
                .list_users(&tenant, &filter, page)
                .await?;
            Ok(HttpResponseOk(types::UserPage {
                pagination: pagination(rq, &tenant, Listing::Users, &found, page),
                items: found.items,
            }))
        })
        .await
    }

    async fn create_user(
        rqctx: Rq,
        headers: Params<CreateUserHeaders>,
        body: JsonBody<types::CreateUserRequest>,
    ) -> Result<
        HttpResponseHeaders<HttpResponseCreated<types::User>, CreateUserResponseHeaders>,
        ApiError,
    > {
        let rq = &rqctx;
        handle(rq, |tenant| async move {
            let body = body.read(&rq.context().body).await;
            let headers = headers.into_inner()?;
            let bytes = body.bytes().map(<[u8]>::to_vec);
            let (user, was_replayed) = idempotent(
                rq,
                &tenant,
                headers.x_idempotency_key.as_deref(),
                bytes.as_deref(),
                async {
                    let request = body.into_inner()?;
                    Ok(rq.context().store.create_user(&tenant, request).await?)
                },
            )
            .await?;
            Ok(HttpResponseHeaders::new(
                HttpResponseCreated(user),
                CreateUserResponseHeaders {
                    idempotent_replayed: replayed(was_replayed),
                },
            ))
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
        headers: Params<UpdateUserHeaders>,
        body: JsonBody<types::UpdateUserRequest>,
    ) -> Result<HttpResponseHeaders<HttpResponseOk<types::User>, UpdateUserResponseHeaders>, ApiError>
    {
        let rq = &rqctx;
        handle(rq, |tenant| async move {
            let body = body.read(&rq.context().body).await;
            let headers = headers.into_inner()?;
            let bytes = body.bytes().map(<[u8]>::to_vec);
            let (user, was_replayed) = idempotent(
                rq,
                &tenant,
                headers.x_idempotency_key.as_deref(),
                bytes.as_deref(),
                async {
                    let id = path_id(&path.into_inner()?.user_id, "user")?;
                    let request = body.into_inner()?;
                    Ok(rq.context().store.update_user(&tenant, id, request).await?)
                },
            )
            .await?;
            Ok(HttpResponseHeaders::new(
                HttpResponseOk(user),
                UpdateUserResponseHeaders {
                    idempotent_replayed: replayed(was_replayed),
                },
            ))
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
        let rq = &rqctx;
        handle(rq, |tenant| async move {
            let query = query.into_inner()?;
            let page = page_request(
                rq,
                &tenant,
                Listing::Customers,
                query.limit,
                query.offset,
                query.cursor.as_deref(),
            )?;
            let filter = CustomerFilter {
                text: query.filter.filter(|text| !text.is_empty()),
                customer_type: query.customer_type,
            };
            let _room = page_room(rq, &tenant, Listing::Customers, page.limit).await;
            let found = rq
                .context()
                .store
                .list_customers(&tenant, &filter, page)
                .await?;
            Ok(HttpResponseOk(types::CustomerPage {
                pagination: pagination(rq, &tenant, Listing::Customers, &found, page),
                items: found.items,
            }))
        })
        .await
    }

    async fn create_customer(
        rqctx: Rq,
        headers: Params<CreateCustomerHeaders>,
        body: JsonBody<types::CreateCustomerRequest>,
    ) -> Result<
        HttpResponseHeaders<HttpResponseCreated<types::Customer>, CreateCustomerResponseHeaders>,
        ApiError,
    > {
        let rq = &rqctx;
        handle(rq, |tenant| async move {
            let body = body.read(&rq.context().body).await;
            let headers = headers.into_inner()?;
            let bytes = body.bytes().map(<[u8]>::to_vec);
            let (customer, was_replayed) = idempotent(
                rq,
                &tenant,
                headers.x_idempotency_key.as_deref(),
                bytes.as_deref(),
                async {
                    let request = body.into_inner()?;
                    Ok(rq.context().store.create_customer(&tenant, request).await?)
                },
            )
            .await?;
            Ok(HttpResponseHeaders::new(
                HttpResponseCreated(customer),
                CreateCustomerResponseHeaders {
                    idempotent_replayed: replayed(was_replayed),
                },
            ))
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
        headers: Params<UpdateCustomerHeaders>,
        body: JsonBody<types::UpdateCustomerRequest>,
    ) -> Result<
        HttpResponseHeaders<HttpResponseOk<types::Customer>, UpdateCustomerResponseHeaders>,
        ApiError,
    > {
        let rq = &rqctx;
        handle(rq, |tenant| async move {
            let body = body.read(&rq.context().body).await;
            let headers = headers.into_inner()?;
            let bytes = body.bytes().map(<[u8]>::to_vec);
            let (customer, was_replayed) = idempotent(
                rq,
                &tenant,
                headers.x_idempotency_key.as_deref(),
                bytes.as_deref(),
                async {
                    let id = path_id(&path.into_inner()?.customer_id, "customer")?;
                    let request = body.into_inner()?;
                    Ok(rq
                        .context()
                        .store
                        .update_customer(&tenant, id, request)
                        .await?)
                },
            )
            .await?;
            Ok(HttpResponseHeaders::new(
                HttpResponseOk(customer),
                UpdateCustomerResponseHeaders {
                    idempotent_replayed: replayed(was_replayed),
                },
            ))
        })
        .await
    }

    async fn update_customer_billing(
        rqctx: Rq,
        path: Params<UpdateCustomerBillingPath>,
        headers: Params<UpdateCustomerBillingHeaders>,
        body: JsonBody<types::Billing>,
    ) -> Result<
        HttpResponseHeaders<HttpResponseOk<types::Customer>, UpdateCustomerBillingResponseHeaders>,
        ApiError,
    > {
        let rq = &rqctx;
        handle(rq, |tenant| async move {
            let body = body.read(&rq.context().body).await;
            let headers = headers.into_inner()?;
            let bytes = body.bytes().map(<[u8]>::to_vec);
            let (customer, was_replayed) = idempotent(
                rq,
                &tenant,
                headers.x_idempotency_key.as_deref(),
                bytes.as_deref(),
                async {
                    let id = path_id(&path.into_inner()?.customer_id, "customer")?;
                    let billing = body.into_inner()?;
                    Ok(rq
                        .context()
                        .store
                        .update_billing(&tenant, id, billing)
                        .await?)
                },
            )
            .await?;
            Ok(HttpResponseHeaders::new(
                HttpResponseOk(customer),
                UpdateCustomerBillingResponseHeaders {
                    idempotent_replayed: replayed(was_replayed),
                },
            ))
        })
        .await
    }

    async fn add_user_to_customer(
        rqctx: Rq,
        path: Params<AddUserToCustomerPath>,
        headers: Params<AddUserToCustomerHeaders>,
        body: JsonBody<types::AddUserToCustomerRequest>,
    ) -> Result<
        HttpResponseHeaders<
            HttpResponseCreated<types::CustomerUser>,
            AddUserToCustomerResponseHeaders,
        >,
        ApiError,
    > {
        let rq = &rqctx;
        handle(rq, |tenant| async move {
            let body = body.read(&rq.context().body).await;
            let headers = headers.into_inner()?;
            let bytes = body.bytes().map(<[u8]>::to_vec);
            let (link, was_replayed) = idempotent(
                rq,
                &tenant,
                headers.x_idempotency_key.as_deref(),
                bytes.as_deref(),
                async {
                    let customer = path_id(&path.into_inner()?.customer_id, "customer")?;
                    let request = body.into_inner()?;
                    let role = request.role.unwrap_or_default();
                    Ok(rq
                        .context()
                        .store
                        .add_user(&tenant, customer, request.user_id, role)
                        .await?)
                },
            )
            .await?;
            Ok(HttpResponseHeaders::new(
                HttpResponseCreated(link),
                AddUserToCustomerResponseHeaders {
                    idempotent_replayed: replayed(was_replayed),
                },
            ))
        })
        .await
    }

    async fn remove_user_from_customer(
        rqctx: Rq,
        path: Params<RemoveUserFromCustomerPath>,
        query: Params<RemoveUserFromCustomerQuery>,
        headers: Params<RemoveUserFromCustomerHeaders>,
    ) -> Result<
        HttpResponseHeaders<HttpResponseDeleted, RemoveUserFromCustomerResponseHeaders>,
        ApiError,
    > {
        let rq = &rqctx;
        handle(rq, |tenant| async move {
            let headers = headers.into_inner()?;
            let ((), was_replayed) = idempotent(
                rq,
                &tenant,
                headers.x_idempotency_key.as_deref(),
                Some(&[]),
                async {
                    let customer = path_id(&path.into_inner()?.customer_id, "customer")?;
                    let query = query.into_inner()?;
                    Ok(rq
                        .context()
                        .store
                        .remove_user(&tenant, customer, query.user_id)
                        .await?)
                },
            )
            .await?;
            Ok(HttpResponseHeaders::new(
                HttpResponseDeleted(),
                RemoveUserFromCustomerResponseHeaders {
                    idempotent_replayed: replayed(was_replayed),
                },
            ))
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
