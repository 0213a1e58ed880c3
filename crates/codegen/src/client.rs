//! The client: progenitor, builder style, with its own types.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use proc_macro2::TokenStream;
use progenitor_impl::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};

use crate::{Settings, Spec, SpecError};

pub fn generate(spec: &Spec, settings: &Settings) -> Result<String, SpecError> {
    let mut generation = GenerationSettings::new();
    generation
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_map_type("::std::collections::BTreeMap");
    if let Some(inner) = &settings.client_inner_type {
        let inner: TokenStream = inner.parse().map_err(|error| SpecError::Generator {
            path: spec.path.clone(),
            message: format!("client_inner_type `{inner}` is not a Rust type: {error}"),
        })?;
        generation
            .with_inner_type(inner)
            .with_hooks(HooksMode::Expected);
    }
    let mut generator = Generator::new(&generation);
    let tokens = run_progenitor(spec, &mut generator)?;
    crate::render(escape_backslashes_in_paths(tokens), settings, spec)
}

/// progenitor-client 0.15's `encode_path` leaves `\` as it is, and URL parsers read a `\` in
/// an http URL as `/`: a path parameter holding a backslash would name another resource. Every
/// `encode_path(..)` call becomes `encode_path(..).replace('\\', "%5C")`; `encode_path` never
/// produces a backslash of its own, and has already escaped `%`, so nothing is encoded twice.
/// The calls sit inside `format!` arguments, so this works on tokens rather than on syntax.
fn escape_backslashes_in_paths(tokens: TokenStream) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    let mut out = Vec::new();
    let mut trees = tokens.into_iter().peekable();
    while let Some(tree) = trees.next() {
        match tree {
            TokenTree::Ident(ident) if ident == "encode_path" => {
                let is_call = matches!(trees.peek(), Some(TokenTree::Group(g)) if g.delimiter() == proc_macro2::Delimiter::Parenthesis);
                out.push(TokenTree::Ident(ident));
                if is_call {
                    let Some(TokenTree::Group(args)) = trees.next() else {
                        unreachable!()
                    };
                    let args =
                        Group::new(args.delimiter(), escape_backslashes_in_paths(args.stream()));
                    out.push(TokenTree::Group(args));
                    out.extend(quote::quote! { .replace('\\', "%5C") });
                }
            }
            TokenTree::Group(group) => {
                let mut rebuilt = Group::new(
                    group.delimiter(),
                    escape_backslashes_in_paths(group.stream()),
                );
                rebuilt.set_span(group.span());
                out.push(TokenTree::Group(rebuilt));
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// Runs progenitor, turning its errors and its panics (it asserts on some inputs that
/// [`crate::model`] should already have refused) into a [`SpecError`].
pub(crate) fn run_progenitor(
    spec: &Spec,
    generator: &mut Generator,
) -> Result<TokenStream, SpecError> {
    let message = match quietly(|| generator.generate_tokens(&spec.doc)) {
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
    Err(SpecError::Generator {
        path: spec.path.clone(),
        message,
    })
}

thread_local! {
    /// Whether a panic on this thread is being caught by [`quietly`].
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, catching a panic without printing it. The panic hook is process-wide, so it is
/// wrapped once rather than swapped per call: swapping races with other threads (tests run in
/// parallel) and can leave every later panic, a failing assertion's message included, silenced.
fn quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    static WRAP_HOOK: Once = Once::new();
    WRAP_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|quiet| quiet.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|quiet| quiet.set(false));
    result
}
