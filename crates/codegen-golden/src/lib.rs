//! The generator's golden outputs, compiled. Each spec of `crates/codegen/tests/corpus/` has
//! its three generated files in `crates/codegen/tests/output/`, which `cargo test -p codegen`
//! keeps equal to what the generator makes; this crate builds them (so a golden file that does
//! not compile fails `cargo test --workspace`), and its tests prove each trait's round trip and
//! serve some of them through HTTP.
//!
//! Each spec `name` is three modules: `name_types` (the types crate), `name_api` (the trait,
//! generated with `types_crate = crate::name_types`) and `name_client`; a spec with webhooks
//! has a fourth, `name_webhooks` (the receiver).

#[path = "../../codegen/tests/output/conventions.types.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod conventions_types;
#[path = "../../codegen/tests/output/conventions.api.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod conventions_api;
#[path = "../../codegen/tests/output/conventions.client.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod conventions_client;

/// The hand-written machinery the `conventions` client's conveniences call.
pub mod conventions_machinery;

#[path = "../../codegen/tests/output/errors.types.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod errors_types;
#[path = "../../codegen/tests/output/errors.api.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod errors_api;
#[path = "../../codegen/tests/output/errors.client.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod errors_client;

#[path = "../../codegen/tests/output/inline.types.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod inline_types;
#[path = "../../codegen/tests/output/inline.api.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod inline_api;
#[path = "../../codegen/tests/output/inline.client.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod inline_client;

#[path = "../../codegen/tests/output/media.types.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod media_types;
#[path = "../../codegen/tests/output/media.api.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod media_api;
#[path = "../../codegen/tests/output/media.client.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod media_client;

#[path = "../../codegen/tests/output/objects.types.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod objects_types;
#[path = "../../codegen/tests/output/objects.api.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod objects_api;
#[path = "../../codegen/tests/output/objects.client.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod objects_client;

#[path = "../../codegen/tests/output/openapi31.types.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod openapi31_types;
#[path = "../../codegen/tests/output/openapi31.api.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod openapi31_api;
#[path = "../../codegen/tests/output/openapi31.client.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod openapi31_client;

#[path = "../../codegen/tests/output/parameters.types.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod parameters_types;
#[path = "../../codegen/tests/output/parameters.api.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod parameters_api;
#[path = "../../codegen/tests/output/parameters.client.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod parameters_client;

#[path = "../../codegen/tests/output/responses.types.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod responses_types;
#[path = "../../codegen/tests/output/responses.api.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod responses_api;
#[path = "../../codegen/tests/output/responses.client.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod responses_client;

#[path = "../../codegen/tests/output/schemas.types.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod schemas_types;
#[path = "../../codegen/tests/output/schemas.api.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod schemas_api;
#[path = "../../codegen/tests/output/schemas.client.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod schemas_client;

#[path = "../../codegen/tests/output/webhooks.types.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod webhooks_types;
#[path = "../../codegen/tests/output/webhooks.api.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod webhooks_api;
#[path = "../../codegen/tests/output/webhooks.client.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod webhooks_client;

/// The webhook receivers generated from the corpus specs with `x-webhooks`.
#[path = "../../codegen/tests/output/webhooks.webhooks.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod webhooks_webhooks;
#[path = "../../codegen/tests/output/openapi31.webhooks.rs"]
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]
pub mod openapi31_webhooks;
