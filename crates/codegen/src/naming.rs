//! Every Rust name the generator makes from the spec, in one place, so that the trait, the
//! types and the client cannot disagree.
//!
//! Type and variant names follow typify's own rules exactly ([`pascal`]), so that a name the
//! generator picks for a schema is the name typify gives the type; method names are chosen so
//! that progenitor, which sanitizes operation ids the same way, keeps them as they are.

use heck::{ToPascalCase, ToSnakeCase};
use proc_macro2::Ident;
use unicode_ident::{is_xid_continue, is_xid_start};

/// Identifiers typify (and so progenitor) cannot use as they are: Rust's keywords, `gen`, and
/// the names a Rust prelude type would shadow badly are not special here.
const KEYWORDS: &[&str] = &[
    "_", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if",
    "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Whether typify takes `text` as an identifier without changing it.
fn accepted(text: &str) -> bool {
    !KEYWORDS.contains(&text)
}

/// `input` in PascalCase as typify spells a type or variant name: characters that cannot
/// continue an identifier become word breaks, apostrophes vanish, a name that cannot start an
/// identifier gets an `X` in front, and a keyword gets a `_` behind.
pub fn pascal(input: &str) -> String {
    sanitize(input, |s| s.to_pascal_case(), "X")
}

/// `input` in snake_case, as typify spells a field name.
pub fn snake(input: &str) -> String {
    sanitize(input, |s| s.to_snake_case(), "x")
}

fn sanitize(input: &str, case: impl Fn(&str) -> String, prefix: &str) -> String {
    let out = match input {
        "+1" => "plus1".to_string(),
        "-1" => "minus1".to_string(),
        _ => case(
            &input
                .replace('\'', "")
                .replace(|c: char| !is_xid_continue(c), "-"),
        ),
    };
    let out = match out.chars().next() {
        None => case(prefix),
        Some(c) if is_xid_start(c) => out,
        Some(_) => format!("{}{out}", case(prefix)),
    };
    if accepted(&out) {
        out
    } else {
        format!("{out}_")
    }
}

/// The Rust name of the type for the schema called `name`, made unique among `taken` by a
/// number (`Pagination`, then `Pagination2`), and a fixed point of [`pascal`], so that typify
/// gives the type exactly this name.
pub fn unique_type_name(name: &str, taken: &mut std::collections::BTreeSet<String>) -> String {
    let base = fixed(pascal(name), pascal);
    let mut candidate = base.clone();
    let mut number = 2;
    while taken.contains(&candidate) {
        candidate = fixed(format!("{base}{number}"), pascal);
        number += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

/// Applies `f` until the name stops changing (twice is always enough for heck's cases).
fn fixed(mut name: String, f: impl Fn(&str) -> String) -> String {
    for _ in 0..4 {
        let next = f(&name);
        if next == name {
            break;
        }
        name = next;
    }
    name
}

/// The method name of an operation on the server trait and on the client: the snake_case of
/// its operation id, a valid identifier that progenitor keeps as it is.
pub fn method_name(operation_id: &str) -> String {
    let snake = fixed(snake(operation_id), snake);
    // `snake` appends `_` to keywords, which a second pass of heck would take off again.
    if accepted(&snake) && syn::parse_str::<Ident>(&snake).is_ok() {
        snake
    } else {
        format!("{}_op", snake.trim_end_matches('_'))
    }
}

/// The PascalCase stem of an operation's generated items (`ListPetsQuery`, `ListPetsBody`).
pub fn operation_type_stem(method_name: &str) -> String {
    fixed(pascal(method_name), pascal)
}

/// The operation id an operation without one is given: its method and path in snake_case
/// (`GET /users/{userId}` is `get_users_user_id`; `GET /` is `get_root`).
pub fn derived_operation_id(method: &str, path: &str) -> String {
    let words: Vec<String> = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| segment.trim_start_matches('{').trim_end_matches('}'))
        .map(|segment| segment.to_snake_case())
        .filter(|word| !word.is_empty())
        .collect();
    match words.as_slice() {
        [] => format!("{method}_root"),
        words => format!("{method}_{}", words.join("_")),
    }
}

/// The Rust field a parameter or header named `name` becomes: its snake_case, raw (`r#type`)
/// when that is a keyword. `None` when no identifier spells it: an empty snake_case, one that
/// starts with a digit, and `self`, `super`, `crate` and `_`, which cannot be raw.
pub fn field_ident(name: &str) -> Option<Ident> {
    let snake = name.to_snake_case();
    if is_plain_ident(&snake) {
        return syn::parse_str(&snake).ok();
    }
    syn::parse_str(&format!("r#{snake}")).ok()
}

/// The fields of one struct for the names `names`, in order: each the [`field_ident`] of its
/// name, or, when that is taken by an earlier name or spells nothing, a number beside it
/// (`page_size`, `page_size_2`; `field_3` for a third name without letters).
pub fn field_idents<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<Ident> {
    let mut taken: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (index, name) in names.into_iter().enumerate() {
        let ident = field_ident(name)
            .filter(|ident| !taken.contains(&ident.to_string()))
            .unwrap_or_else(|| {
                let (stem, mut number) = match field_ident(name) {
                    Some(ident) => (ident.to_string().trim_start_matches("r#").to_string(), 2),
                    None => ("field".to_string(), index + 1),
                };
                loop {
                    let candidate = format!("{stem}_{number}");
                    if !taken.contains(&candidate) {
                        break syn::parse_str(&candidate).expect("a snake_case identifier");
                    }
                    number += 1;
                }
            });
        taken.push(ident.to_string());
        out.push(ident);
    }
    out
}

/// Keywords of the 2024 edition that syn, which parses every edition, takes for identifiers.
const KEYWORDS_2024: [&str; 1] = ["gen"];

/// Whether `text` is a Rust identifier that is neither a keyword nor raw.
pub fn is_plain_ident(text: &str) -> bool {
    !KEYWORDS_2024.contains(&text)
        && !text.starts_with("r#")
        && syn::parse_str::<Ident>(text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_typifys() {
        assert_eq!(pascal("simple-user"), "SimpleUser");
        assert_eq!(pascal("nullable-simple-user"), "NullableSimpleUser");
        assert_eq!(pascal("2fa"), "X2fa");
        assert_eq!(pascal("won't"), "Wont");
        assert_eq!(pascal("self"), "Self_");
        assert_eq!(pascal("@timestamp"), "Timestamp");
        assert_eq!(pascal(""), "X");
    }

    #[test]
    fn unique_names_number_the_later_ones() {
        let mut taken = Default::default();
        assert_eq!(unique_type_name("Pagination", &mut taken), "Pagination");
        assert_eq!(unique_type_name("pagination", &mut taken), "Pagination2");
        assert_eq!(unique_type_name("Pagination", &mut taken), "Pagination3");
        for name in &taken {
            assert_eq!(&pascal(name), name, "a fixed point");
        }
    }

    #[test]
    fn method_names_are_identifiers_progenitor_keeps() {
        assert_eq!(method_name("listUsers"), "list_users");
        assert_eq!(method_name("repos/get-content"), "repos_get_content");
        assert_eq!(method_name("2fa"), "x2fa");
        assert_eq!(method_name("type"), "type_");
        assert_eq!(method_name("pets.list"), "pets_list");
        for id in ["listUsers", "repos/get-content", "2fa", "type"] {
            let name = method_name(id);
            assert_eq!(snake(&name), name, "{id}");
        }
    }

    #[test]
    fn derived_operation_ids_spell_method_and_path() {
        assert_eq!(
            derived_operation_id("get", "/users/{userId}"),
            "get_users_user_id"
        );
        assert_eq!(derived_operation_id("post", "/"), "post_root");
        assert_eq!(
            derived_operation_id("get", "/anything/image-png"),
            "get_anything_image_png"
        );
    }

    #[test]
    fn field_names_are_snake_case_and_raw_for_keywords() {
        let field = |name: &str| field_ident(name).map(|f| f.to_string());
        assert_eq!(field("userId").as_deref(), Some("user_id"));
        assert_eq!(field("X-Request-Id").as_deref(), Some("x_request_id"));
        assert_eq!(field("type").as_deref(), Some("r#type"));
        assert_eq!(field("gen").as_deref(), Some("r#gen"));
        for name in [
            "self", "Self", "super", "crate", "_", "", "-", "2fa", "a\u{b2}",
        ] {
            assert_eq!(field(name), None, "{name:?}");
        }
    }

    #[test]
    fn colliding_fields_are_numbered() {
        let fields: Vec<String> = field_idents(["page[size]", "page_size", "", "2fa", "type"])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            fields,
            ["page_size", "page_size_2", "field_3", "field_4", "r#type"]
        );
    }
}
