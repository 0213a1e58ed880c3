//! JSON Schema validation for the types `codegen` generates from an OpenAPI document.
//!
//! A generated types crate states each component schema once, as JSON Schema `definitions`
//! ([`Definitions`]), and marks the types that arrive in requests as [`Validated`]. Decoding a
//! request value then validates it against the spec's own schema before deserializing it, so a
//! rejection ([`Rejection`]) names every bad property by its JSON pointer (`/email`,
//! `/items/3/sku`), whatever the Rust types could or could not express.
//!
//! This crate knows nothing about any particular API and nothing about HTTP servers: it must
//! not depend on dropshot, reqwest or generated crates (`spec-runtime` builds on it for the
//! server side).

mod convert;
mod decode;
mod rejection;
mod template;
mod validate;

pub use convert::{convert, definitions, standalone};
pub use decode::{Validated, form_to_json};
pub use rejection::{Detail, Rejection, codes};
pub use template::render_rejection;
pub use validate::{
    Compiled, Definitions, MAX_DETAILS, check, check_shape, compile_validator, validate,
    validate_in,
};

/// Re-exported so that generated code names one path for these crates.
pub use {jsonschema, serde_json};

/// States a spec's component schemas as JSON Schema `definitions`: `definitions!(r#"{...}"#);`
/// defines `pub static SCHEMA_DEFINITIONS` in the invoking module.
#[macro_export]
macro_rules! definitions {
    ($text:literal) => {
        /// Every component schema of the spec as JSON Schema (draft 4) `definitions`: what
        /// request bodies and parameters are validated against.
        pub static SCHEMA_DEFINITIONS: $crate::Definitions = $crate::Definitions::new($text);
    };
}

/// Marks types as [`Validated`] by the definition of the same schema:
/// `validated!(SCHEMA_DEFINITIONS; Pet = "Pet", NewPet = "NewPet");`.
#[macro_export]
macro_rules! validated {
    ($definitions:path; $($ty:ty = $name:literal),* $(,)?) => {
        $(
            impl $crate::Validated for $ty {
                fn compiled() -> &'static $crate::Compiled {
                    static COMPILED: ::std::sync::OnceLock<$crate::Compiled> = ::std::sync::OnceLock::new();
                    COMPILED.get_or_init(|| $definitions.compiled($name))
                }
            }
        )*
    };
}
