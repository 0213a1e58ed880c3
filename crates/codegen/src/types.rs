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
/// writes the whole value into a buffer on the stack before handing it to the serializer.
/// chrono's own `Serialize` writes the same text (RFC 3339 in UTC, `Z`, a fraction of 0, 3, 6
/// or 9 digits) through `collect_str`, which serde_json receives, and escapes, one character at
/// a time: that was half the cost of serializing a response with two timestamps (and
/// `to_rfc3339_opts`, which builds a `String` for each, a quarter of what was left). The
/// functions are written into the generated crate, which stays self-contained (a consumer's
/// webhook receiver depends on no crate of ours). Other places a date-time can be (an array's
/// items, a map's values) keep chrono's path: the same bytes, more slowly.
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
    if !(bare_used || optional_used) {
        return Ok(file.into_token_stream());
    }
    let optional_function = optional_used.then(|| {
        quote! {
            pub(super) fn serialize_option<S: ::serde::Serializer>(
                value: &::std::option::Option<::chrono::DateTime<::chrono::offset::Utc>>,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                /// A date-time that serializes through [`serialize`].
                struct Formatted<'a>(&'a ::chrono::DateTime<::chrono::offset::Utc>);
                impl ::serde::Serialize for Formatted<'_> {
                    fn serialize<S: ::serde::Serializer>(
                        &self,
                        serializer: S,
                    ) -> ::std::result::Result<S::Ok, S::Error> {
                        serialize(self.0, serializer)
                    }
                }
                match value {
                    ::std::option::Option::Some(value) => {
                        serializer.serialize_some(&Formatted(value))
                    }
                    ::std::option::Option::None => serializer.serialize_none(),
                }
            }
        }
    });
    // `serialize_option` calls `serialize`, so that one is always written (and allowed to go
    // unused by fields of its own).
    let helpers = quote! {
        /// Date-times as chrono's `Serialize` writes them (RFC 3339 in UTC, `Z`, a fraction of
        /// 0, 3, 6 or 9 digits), formatted whole into a buffer on the stack. Years outside
        /// 0000-9999 and leap seconds take chrono's own formatting.
        mod date_time_serde {
            use ::chrono::{Datelike as _, Timelike as _};

            /// The longest text [`format`] writes: `2024-02-29T23:59:59.123456789Z`.
            const LONGEST: usize = 30;

            /// Writes `value` into `buffer` as chrono does, or returns `None` when its year
            /// or a leap second needs chrono's path.
            fn format(
                value: &::chrono::DateTime<::chrono::offset::Utc>,
                buffer: &mut [u8; LONGEST],
            ) -> ::std::option::Option<usize> {
                let year = u32::try_from(value.year()).ok().filter(|year| *year <= 9999)?;
                let nanos = value.nanosecond();
                if nanos >= 1_000_000_000 {
                    return ::std::option::Option::None;
                }
                let mut put = |at: usize, number: u32, width: usize| {
                    let mut number = number;
                    for slot in buffer[at..at + width].iter_mut().rev() {
                        *slot = b'0' + (number % 10) as u8;
                        number /= 10;
                    }
                };
                put(0, year, 4);
                put(5, value.month(), 2);
                put(8, value.day(), 2);
                put(11, value.hour(), 2);
                put(14, value.minute(), 2);
                put(17, value.second(), 2);
                let (fraction, digits) = match nanos {
                    0 => (0, 0),
                    _ if nanos % 1_000_000 == 0 => (nanos / 1_000_000, 3),
                    _ if nanos % 1_000 == 0 => (nanos / 1_000, 6),
                    _ => (nanos, 9),
                };
                put(20, fraction, digits);
                for (at, byte) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
                    buffer[at] = byte;
                }
                let end = match digits {
                    0 => 19,
                    _ => {
                        buffer[19] = b'.';
                        20 + digits
                    }
                };
                buffer[end] = b'Z';
                ::std::option::Option::Some(end + 1)
            }

            #[allow(dead_code)]
            pub(super) fn serialize<S: ::serde::Serializer>(
                value: &::chrono::DateTime<::chrono::offset::Utc>,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                let mut buffer = [0; LONGEST];
                match format(value, &mut buffer) {
                    ::std::option::Option::Some(length) => serializer.serialize_str(
                        ::std::str::from_utf8(&buffer[..length]).expect("the buffer holds ASCII"),
                    ),
                    ::std::option::Option::None => serializer.serialize_str(
                        &value.to_rfc3339_opts(::chrono::SecondsFormat::AutoSi, true),
                    ),
                }
            }

            #optional_function
        }
    };
    Ok(quote! { #file #helpers })
}
