//! Server-side schema types: typify (through progenitor's type space), with serde and
//! `schemars::JsonSchema`; the spec's schemas as JSON Schema `definitions`; and the types that
//! arrive as request bodies marked as validated by their schema.

use progenitor_impl::{GenerationSettings, Generator, InterfaceStyle};
use quote::{format_ident, quote};

use crate::api::raw_string;
use crate::model::Api;
use crate::normalize::Normalized;
use crate::{Settings, SpecError};

pub fn generate(
    normalized: &Normalized<'_>,
    document: &openapiv3::OpenAPI,
    api: &Api,
    settings: &Settings,
) -> Result<String, SpecError> {
    let types = type_space(normalized, document)?;

    let definitions = raw_string(
        &serde_json::to_string_pretty(&spec_schema::definitions(&normalized.doc)).expect("JSON"),
    );
    let mut bodies: Vec<&str> = api
        .operations
        .iter()
        .filter_map(|op| op.body.as_ref())
        .filter_map(|body| body.schema.as_deref())
        .collect();
    bodies.sort();
    bodies.dedup();
    let validated = (!bodies.is_empty()).then(|| {
        let entries = bodies.iter().map(|name| {
            let ty = format_ident!("{name}");
            quote! { #ty = #name }
        });
        quote! {
            ::spec_schema::validated!(SCHEMA_DEFINITIONS; #(#entries),*);
        }
    });
    crate::render(
        quote! {
            #types

            ::spec_schema::definitions!(#definitions);

            #validated
        },
        settings,
        normalized.spec,
    )
}

/// The Rust types of the document's schemas (typify, through progenitor's type space), with
/// serde and `schemars::JsonSchema`.
pub fn type_space(
    normalized: &Normalized<'_>,
    document: &openapiv3::OpenAPI,
) -> Result<proc_macro2::TokenStream, SpecError> {
    let mut generation = GenerationSettings::new();
    generation
        .with_interface(InterfaceStyle::Positional)
        .with_derive("schemars::JsonSchema")
        // Maps serialize in key order, so responses are byte-stable.
        .with_map_type("::std::collections::BTreeMap");
    let mut generator = Generator::new(&generation);
    crate::client::run_progenitor(normalized, document, &mut generator)?;
    let types = generator.get_type_space().to_stream();
    date_times_in_one_piece(types).map_err(|error| SpecError::Generator {
        path: normalized.spec.path.clone(),
        message: format!("the schema types do not parse: {error}"),
    })
}

/// Has every field of type `DateTime<Utc>`, bare or optional, serialized by a function that
/// formats the whole value before handing it to the serializer. chrono's own `Serialize` writes
/// the same text (RFC 3339 in UTC, `Z`, a fraction of 0, 3, 6 or 9 digits) through
/// `collect_str`, which serde_json receives, and escapes, one character at a time: that was
/// half the cost of serializing a response with two timestamps. Other places a date-time can
/// be (an array's items, a map's values) keep chrono's path: the same bytes, more slowly.
fn date_times_in_one_piece(
    types: proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    use quote::ToTokens as _;
    let mut file: syn::File = syn::parse2(types)?;
    // Types compared as their tokens' text without spaces (whose placement differs between
    // tokens parsed and tokens quoted).
    let text = |tokens: proc_macro2::TokenStream| tokens.to_string().replace(' ', "");
    let bare = text(quote!(::chrono::DateTime<::chrono::offset::Utc>));
    let optional = text(quote!(
        ::std::option::Option<::chrono::DateTime<::chrono::offset::Utc>>
    ));
    let (mut bare_used, mut optional_used) = (false, false);
    for item in &mut file.items {
        let fields: Vec<&mut syn::Field> = match item {
            syn::Item::Struct(item) => item.fields.iter_mut().collect(),
            syn::Item::Enum(item) => item
                .variants
                .iter_mut()
                .flat_map(|variant| variant.fields.iter_mut())
                .collect(),
            _ => continue,
        };
        for field in fields {
            let ty = text(field.ty.to_token_stream());
            let function = if ty == bare {
                bare_used = true;
                "date_time_serde::serialize"
            } else if ty == optional {
                optional_used = true;
                "date_time_serde::serialize_option"
            } else {
                continue;
            };
            field
                .attrs
                .push(syn::parse_quote!(#[serde(serialize_with = #function)]));
        }
    }
    let bare_function = bare_used.then(|| {
        quote! {
            pub(super) fn serialize<S: ::serde::Serializer>(
                value: &::chrono::DateTime<::chrono::offset::Utc>,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&value.to_rfc3339_opts(::chrono::SecondsFormat::AutoSi, true))
            }
        }
    });
    let optional_function = optional_used.then(|| {
        quote! {
            pub(super) fn serialize_option<S: ::serde::Serializer>(
                value: &::std::option::Option<::chrono::DateTime<::chrono::offset::Utc>>,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                match value {
                    ::std::option::Option::Some(value) => serializer
                        .serialize_some(&value.to_rfc3339_opts(::chrono::SecondsFormat::AutoSi, true)),
                    ::std::option::Option::None => serializer.serialize_none(),
                }
            }
        }
    });
    let helpers = (bare_used || optional_used).then(|| {
        quote! {
            /// Date-times as chrono's `Serialize` writes them (RFC 3339 in UTC, `Z`, a fraction
            /// of 0, 3, 6 or 9 digits), formatted whole rather than a character at a time.
            mod date_time_serde {
                #bare_function
                #optional_function
            }
        }
    });
    Ok(quote! { #file #helpers })
}
