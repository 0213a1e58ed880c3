//! The client: progenitor, builder style, with its own types.

use std::panic::{AssertUnwindSafe, catch_unwind};

use progenitor_impl::{GenerationSettings, Generator, InterfaceStyle, TagStyle};
use proc_macro2::TokenStream;

use crate::{Settings, Spec, SpecError};

pub fn generate(spec: &Spec, settings: &Settings) -> Result<String, SpecError> {
    let mut generation = GenerationSettings::new();
    generation.with_interface(InterfaceStyle::Builder).with_tag(TagStyle::Merged);
    let mut generator = Generator::new(&generation);
    let tokens = run_progenitor(spec, &mut generator)?;
    crate::render(tokens, settings, spec)
}

/// Runs progenitor, turning its errors and its panics (it asserts on some inputs that
/// [`crate::model`] should already have refused) into a [`SpecError`].
pub(crate) fn run_progenitor(spec: &Spec, generator: &mut Generator) -> Result<TokenStream, SpecError> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(|| generator.generate_tokens(&spec.doc)));
    std::panic::set_hook(hook);
    let message = match result {
        Ok(Ok(tokens)) => return Ok(tokens),
        Ok(Err(error)) => format!("progenitor cannot generate from this document: {error}"),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            format!("progenitor failed on a construct the generator does not check for yet: {what}")
        }
    };
    Err(SpecError::Generator { path: spec.path.clone(), message })
}
