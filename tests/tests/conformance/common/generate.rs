//! Request bodies derived from the spec's schemas: proptest strategies for valid instances, and
//! for every constraint of a schema, a mutation that breaks exactly that constraint.
//!
//! Everything the YAML states is read from it: types, `required`, `enum`, `minLength` and
//! `maxLength`, `pattern`, `format`, `maxProperties` and `additionalProperties` maps,
//! `maxItems`, `uniqueItems`, `nullable`, `oneOf` with a `discriminator`. A keyword this module
//! does not know (say `anyOf`, or `minimum` on a request field) panics, so a spec change cannot
//! quietly go untested.
//!
//! The schemas state every rule about a request's shape; what depends on stored data (ids that
//! must name users of the tenant) is supplied by the test as overrides, and its mutations are
//! answered 404 (see [`rule_mutations`]).

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde_json::{Map, Value, json};

use super::spec::{resolve, spec};

/// The longest map key generated (keys are any string; the spec bounds only their number).
const KEY_MAX_CHARS: usize = 64;

/// How many optional properties a generated object has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Each optional property present or absent at random.
    Random,
    /// Every optional property present, at every depth: every constraint has a value to break.
    Full,
}

/// A strategy that replaces the generated value at a JSON pointer (for values whose validity
/// depends on server state, such as ids of existing users).
pub type Override = (String, BoxedStrategy<Value>);

/// The schema of a component, by name.
pub fn component(name: &str) -> Value {
    spec()
        .document
        .pointer(&format!("/components/schemas/{name}"))
        .unwrap_or_else(|| panic!("the spec has no schema {name}"))
        .clone()
}

/// A strategy for valid instances of `schema`.
pub fn valid(schema: &Value, mode: Mode, overrides: &[Override]) -> BoxedStrategy<Value> {
    Gen { mode, overrides }.value(schema, "")
}

struct Gen<'a> {
    mode: Mode,
    overrides: &'a [Override],
}

impl Gen<'_> {
    fn value(&self, schema: &Value, pointer: &str) -> BoxedStrategy<Value> {
        if let Some((_, strategy)) = self.overrides.iter().find(|(p, _)| p == pointer) {
            return strategy.clone();
        }
        let schema = resolve(&spec().document, schema).expect("references resolve");
        if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
            let strategies: Vec<BoxedStrategy<Value>> = branches
                .iter()
                .map(|branch| self.value(branch, pointer))
                .collect();
            return proptest::strategy::Union::new(strategies).boxed();
        }
        for keyword in ["allOf", "anyOf", "not", "minimum", "maximum", "minItems"] {
            assert!(
                schema.get(keyword).is_none(),
                "{pointer}: the generator does not know `{keyword}` yet; teach it"
            );
        }
        let strategy = if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            proptest::sample::select(values.clone()).boxed()
        } else {
            match schema.get("type").and_then(Value::as_str) {
                Some("string") => string(schema).prop_map(Value::String).boxed(),
                Some("boolean") => any::<bool>().prop_map(Value::Bool).boxed(),
                Some("object") => self.object(schema, pointer),
                Some("array") => self.array(schema, pointer),
                other => panic!("{pointer}: the generator does not know type {other:?}"),
            }
        };
        if schema.get("nullable").and_then(Value::as_bool) == Some(true)
            && self.mode == Mode::Random
        {
            prop_oneof![4 => strategy, 1 => Just(Value::Null)].boxed()
        } else {
            strategy
        }
    }

    fn object(&self, schema: &Value, pointer: &str) -> BoxedStrategy<Value> {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            return self.map(schema, values, pointer);
        }
        let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
        for (name, property) in schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let present = required.contains(&name.as_str()) || self.mode == Mode::Full;
            let name = name.clone();
            let value = self
                .value(property, &format!("{pointer}/{name}"))
                .prop_map(move |v| (name.clone(), v));
            fields.push(if present {
                value.prop_map(Some).boxed()
            } else {
                proptest::option::of(value).boxed()
            });
        }
        fields
            .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()))
            .boxed()
    }

    /// An object with free keys (`additionalProperties: {schema}`), such as `Metadata`.
    fn map(&self, schema: &Value, values: &Value, pointer: &str) -> BoxedStrategy<Value> {
        let max = schema
            .get("maxProperties")
            .and_then(Value::as_u64)
            .unwrap_or(10) as usize;
        let value = self.value(values, &format!("{pointer}/*"));
        let key = text(0, KEY_MAX_CHARS);
        let min = usize::from(self.mode == Mode::Full);
        // Mostly small maps, sometimes a full one: the bound itself is worth hitting.
        let sizes = prop_oneof![8 => min..=min.max(4), 1 => Just(max)];
        sizes
            .prop_flat_map(move |size| {
                proptest::collection::btree_map(key.clone(), value.clone(), size..=size)
            })
            .prop_map(|map| Value::Object(map.into_iter().collect::<Map<_, _>>()))
            .boxed()
    }

    fn array(&self, schema: &Value, pointer: &str) -> BoxedStrategy<Value> {
        let max = schema.get("maxItems").and_then(Value::as_u64).unwrap_or(10) as usize;
        let item = self.value(&schema["items"], &format!("{pointer}/0"));
        let min = usize::from(self.mode == Mode::Full);
        let unique = schema.get("uniqueItems").and_then(Value::as_bool) == Some(true);
        proptest::collection::vec(item, min..=max.min(8))
            .prop_map(move |mut items| {
                if unique {
                    let mut seen = Vec::new();
                    items.retain(|item| {
                        let new = !seen.contains(item);
                        seen.push(item.clone());
                        new
                    });
                }
                Value::Array(items)
            })
            .boxed()
    }
}

/// A string that satisfies the string keywords of `schema`.
fn string(schema: &Value) -> BoxedStrategy<String> {
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = schema
        .get("maxLength")
        .and_then(Value::as_u64)
        .map_or(300, |m| m as usize);
    let base = match (
        schema.get("format").and_then(Value::as_str),
        schema.get("pattern").and_then(Value::as_str),
    ) {
        (Some("email"), None) => email().boxed(),
        (Some("uuid"), None) => any::<u128>()
            .prop_map(|n| {
                uuid::Builder::from_random_bytes(n.to_le_bytes())
                    .into_uuid()
                    .to_string()
            })
            .boxed(),
        (Some("date-time"), None) => (0i64..4_000_000_000)
            .prop_map(|s| {
                chrono::DateTime::from_timestamp(s, 0)
                    .expect("in range")
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            })
            .boxed(),
        (_, Some(pattern)) => proptest::string::string_regex(&generator_regex(pattern))
            .unwrap_or_else(|error| panic!("pattern {pattern}: {error}"))
            .boxed(),
        (None, None) => return text(min, max),
        (Some(format), None) => panic!("the generator does not know format {format:?}; teach it"),
    };
    base.prop_filter("length within the schema's bounds", move |s| {
        (min..=max).contains(&s.chars().count())
    })
    .boxed()
}

/// Free text of `min..=max` characters: mostly letters and spaces, sometimes any character
/// (control characters, quotes and astral-plane characters included).
pub fn text(min: usize, max: usize) -> BoxedStrategy<String> {
    let char = prop_oneof![
        10 => proptest::char::range('a', 'z'),
        2 => proptest::char::range(' ', '~'),
        1 => any::<char>(),
    ];
    // Short strings mostly, the bounds sometimes.
    let lengths = prop_oneof![8 => min..=max.min(min + 24), 1 => Just(max), 1 => min..=max];
    lengths
        .prop_flat_map(move |len| proptest::collection::vec(char.clone(), len..=len))
        .prop_map(|chars| chars.into_iter().collect())
        .boxed()
}

/// Email addresses that any reading of RFC 5321 accepts.
pub fn email() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        "[a-z0-9]{1,10}([._+-][a-z0-9]{1,10}){0,2}@[a-z0-9]{1,12}(-[a-z0-9]{1,5})?(\\.[a-z]{2,6}){1,2}",
    )
    .expect("a valid regex")
}

/// A spec pattern as a generator regex: without anchors (proptest generates whole strings), and
/// with unbounded repetition bounded (so lengths stay near the schema's `maxLength`).
fn generator_regex(pattern: &str) -> String {
    let pattern = pattern.strip_prefix('^').unwrap_or(pattern);
    let pattern = pattern.strip_suffix('$').unwrap_or(pattern);
    let mut out = String::new();
    let mut escaped = false;
    let mut in_class = false;
    for c in pattern.chars() {
        match c {
            _ if escaped => {
                escaped = false;
                out.push(c);
            }
            '\\' => {
                escaped = true;
                out.push(c);
            }
            '[' => {
                in_class = true;
                out.push(c);
            }
            ']' => {
                in_class = false;
                out.push(c);
            }
            '*' if !in_class => out.push_str("{0,4}"),
            '+' if !in_class => out.push_str("{1,4}"),
            _ => out.push(c),
        }
    }
    out
}

/// A body that breaks one constraint, and the property the server's answer must name.
#[derive(Clone, Debug)]
pub struct Mutation {
    /// What is broken, for messages (`maxLength`, `required`, `rule: billing email` ...).
    pub what: String,
    /// The JSON pointer the `details` entry must name.
    pub property: String,
    pub body: Value,
    /// Whether the schema itself rejects the body (else only a rule the server checks does).
    pub schema_violation: bool,
    /// The status and code of the answer: 400 `validation_error` for a schema violation, 404
    /// `not_found` for a valid body that names a user that is not there.
    pub status: u16,
    pub code: &'static str,
}

/// For every constraint of `schema` that has a value in `instance`, a mutation of `instance`
/// that breaks exactly that constraint. `instance` should be generated in [`Mode::Full`] so
/// that every nested constraint has a value to break.
pub fn mutations(schema: &Value, instance: &Value) -> Vec<Mutation> {
    let mut out = Vec::new();
    walk(schema, instance, instance, "", &mut out);
    out
}

fn walk(schema: &Value, root: &Value, value: &Value, pointer: &str, out: &mut Vec<Mutation>) {
    let schema = resolve(&spec().document, schema).expect("references resolve");
    let mut push = |what: &str, property: &str, replacement: Option<Value>| {
        let mut body = root.clone();
        set(&mut body, property, replacement);
        out.push(Mutation {
            what: what.to_string(),
            property: property.to_string(),
            body,
            schema_violation: true,
            status: 400,
            code: "validation_error",
        });
    };
    if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
        // The branch the instance's discriminator names: its constraints are the ones to break.
        let tag = schema["discriminator"]["propertyName"]
            .as_str()
            .unwrap_or_default();
        let named = value.get(tag).cloned().unwrap_or(Value::Null);
        let branch = schema["discriminator"]["mapping"]
            .get(named.as_str().unwrap_or_default())
            .map(|reference| json!({ "$ref": reference }))
            .or_else(|| branches.first().cloned());
        if let Some(branch) = branch {
            walk(&branch, root, value, pointer, out);
        }
        return;
    }
    let ty = schema.get("type").and_then(Value::as_str);
    // A value of the wrong JSON type.
    if !pointer.is_empty() {
        let wrong = match ty {
            Some("string") => json!(42),
            _ => json!("not an object, array or boolean"),
        };
        push("type", pointer, Some(wrong));
    }
    if schema.get("enum").is_some() {
        push("enum", pointer, Some(json!("NOT_ONE_OF_THE_VALUES")));
        return;
    }
    match ty {
        Some("string") => {
            let min = schema.get("minLength").and_then(Value::as_u64);
            let max = schema.get("maxLength").and_then(Value::as_u64);
            if let Some(min) = min.filter(|m| *m > 0) {
                push(
                    "minLength",
                    pointer,
                    Some(json!("a".repeat(min as usize - 1))),
                );
            }
            if let Some(max) = max {
                push(
                    "maxLength",
                    pointer,
                    Some(json!("a".repeat(max as usize + 1))),
                );
            }
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
                let bad = pattern_breaker(pattern, min.unwrap_or(0), max.unwrap_or(u64::MAX));
                push("pattern", pointer, Some(json!(bad)));
            }
            match schema.get("format").and_then(Value::as_str) {
                Some("email") => push("format", pointer, Some(json!("not-an-email"))),
                Some("uuid") => push("format", pointer, Some(json!("not-a-uuid"))),
                _ => {}
            }
        }
        Some("object") => {
            let Some(object) = value.as_object() else {
                return;
            };
            if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
                if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64) {
                    let mut full = object.clone();
                    for i in 0..=max {
                        full.insert(format!("k{i}"), json!("v"));
                    }
                    push("maxProperties", pointer, Some(Value::Object(full)));
                }
                if let Some((key, item)) = object.iter().next() {
                    walk(
                        values,
                        root,
                        item,
                        &format!("{pointer}/{}", escape(key)),
                        out,
                    );
                }
                return;
            }
            for name in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                push("required", &format!("{pointer}/{name}"), None);
            }
            if let Some(min) = schema.get("minProperties").and_then(Value::as_u64) {
                let fewer: Map<String, Value> = object
                    .iter()
                    .take(min.saturating_sub(1) as usize)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                push("minProperties", pointer, Some(Value::Object(fewer)));
            }
            if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
                push(
                    "additionalProperties",
                    &format!("{pointer}/unexpectedProperty"),
                    Some(json!(1)),
                );
            }
            for (name, property) in schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let Some(item) = object.get(name).filter(|v| !v.is_null()) {
                    walk(property, root, item, &format!("{pointer}/{name}"), out);
                }
            }
        }
        Some("array") => {
            let Some(items) = value.as_array() else {
                return;
            };
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
                let mut long = items.clone();
                // Distinct fillers, so that only `maxItems` breaks (not `uniqueItems`).
                for i in 0..=max {
                    long.push(json!(format!("00000000-0000-4000-8000-{i:012}")));
                }
                push("maxItems", pointer, Some(Value::Array(long)));
            }
            if schema.get("uniqueItems").and_then(Value::as_bool) == Some(true)
                && let Some(first) = items.first()
            {
                let mut twice = items.clone();
                twice.push(first.clone());
                push("uniqueItems", pointer, Some(Value::Array(twice)));
            }
            if let Some(first) = items.first() {
                walk(&schema["items"], root, first, &format!("{pointer}/0"), out);
            }
        }
        _ => {}
    }
}

/// Mutations of a valid body of the component schema `name` that name a user who is not
/// there: still valid against the schema, answered 404 `not_found` naming the property.
pub fn rule_mutations(name: &str, body: &Value) -> Vec<Mutation> {
    let mut out = Vec::new();
    let mut push = |what: &str, property: String, changes: &[(&str, Option<Value>)]| {
        let mut mutated = body.clone();
        for (pointer, value) in changes {
            set(&mut mutated, pointer, value.clone());
        }
        out.push(Mutation {
            what: format!("rule: {what}"),
            property,
            body: mutated,
            schema_violation: false,
            status: 404,
            code: "not_found",
        });
    };
    let nobody = json!(uuid::Uuid::new_v4());
    if name == "CreateCustomerRequest" {
        if let Some(ids) = body.get("userIds").and_then(Value::as_array) {
            let mut more = ids.clone();
            more.push(nobody.clone());
            push(
                "userIds name users of the tenant",
                format!("/userIds/{}", ids.len()),
                &[("/userIds", Some(Value::Array(more)))],
            );
        }
        if body.get("contactPersonUserId").is_some() {
            push(
                "contactPersonUserId names a user of the tenant",
                "/contactPersonUserId".into(),
                &[("/contactPersonUserId", Some(nobody.clone()))],
            );
        }
    }
    if name == "AddUserToCustomerRequest" {
        push(
            "userId names a user of the tenant",
            "/userId".into(),
            &[("/userId", Some(nobody))],
        );
    }
    out
}

/// A short string within the length bounds that does not match `pattern`.
fn pattern_breaker(pattern: &str, min: u64, max: u64) -> String {
    let matcher = jsonschema::validator_for(&json!({"type": "string", "pattern": pattern}))
        .expect("the spec's pattern compiles");
    ["!", "!!", "a", "aa", "1", "a!a!", "aaaaaaaaaa", "Aa-!!"]
        .into_iter()
        .map(str::to_string)
        .chain(std::iter::once("!".repeat(min as usize)))
        .find(|candidate| {
            let len = candidate.chars().count() as u64;
            (min..=max).contains(&len) && !matcher.is_valid(&json!(candidate))
        })
        .unwrap_or_else(|| panic!("no string within {min}..={max} breaks {pattern}"))
}

/// Sets (or with `None` removes) the value at a JSON pointer, creating nothing.
pub fn set(root: &mut Value, pointer: &str, value: Option<Value>) {
    if pointer.is_empty() {
        *root = value.unwrap_or(Value::Null);
        return;
    }
    let (parent, last) = pointer.rsplit_once('/').expect("a pointer starts with /");
    let last = unescape(last);
    let parent = root
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{parent} is not in the instance"));
    match (parent, value) {
        (Value::Object(object), Some(value)) => {
            object.insert(last, value);
        }
        (Value::Object(object), None) => {
            object.remove(&last);
        }
        (Value::Array(items), Some(value)) => {
            items[last.parse::<usize>().expect("an index")] = value;
        }
        (Value::Array(items), None) => {
            items.remove(last.parse::<usize>().expect("an index"));
        }
        (other, _) => panic!("{pointer}: the parent is {other}"),
    }
}

/// JSON pointer escaping of one segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::spec::component_validator;
    use proptest::test_runner::TestRunner;

    #[test]
    fn generated_bodies_validate_against_the_schema_they_come_from() {
        for name in [
            "CreateUserRequest",
            "UpdateUserRequest",
            "UpdateCustomerRequest",
            "Billing",
            "AddUserToCustomerRequest",
        ] {
            let validator = component_validator(name);
            let mut runner = TestRunner::deterministic();
            for mode in [Mode::Random, Mode::Full] {
                let strategy = valid(&component(name), mode, &[]);
                for _ in 0..16 {
                    let body = strategy.new_tree(&mut runner).expect("a value").current();
                    let errors: Vec<String> = validator
                        .iter_errors(&body)
                        .map(|e| e.to_string())
                        .collect();
                    assert!(errors.is_empty(), "{name} {body}: {errors:?}");
                }
            }
        }
    }

    #[test]
    fn every_mutation_breaks_the_schema_at_its_property() {
        let name = "CreateCustomerRequest";
        let validator = component_validator(name);
        let mut runner = TestRunner::deterministic();
        let body = valid(&component(name), Mode::Full, &[])
            .new_tree(&mut runner)
            .expect("a value")
            .current();
        let mutations = mutations(&component(name), &body);
        assert!(mutations.len() > 50, "{}", mutations.len());
        for mutation in mutations {
            let at: Vec<String> = validator
                .iter_errors(&mutation.body)
                .map(|e| e.instance_path().to_string())
                .collect();
            let property = &mutation.property;
            let named = at.iter().any(|p| p == property)
                // `required` and `additionalProperties` are reported at the parent object, and
                // whatever breaks a `oneOf` branch at the `oneOf` (`/billing`).
                || at.iter().any(|p| {
                    property.rsplit_once('/').is_some_and(|(parent, _)| p == parent)
                        || (p == "/billing" && property.starts_with("/billing/"))
                });
            assert!(named, "{} at {property}: errors at {at:?}", mutation.what);
        }
    }

    #[test]
    fn generator_regexes_are_bounded_and_unanchored() {
        assert_eq!(
            generator_regex(r"^\+[1-9][0-9]{1,14}$"),
            r"\+[1-9][0-9]{1,14}"
        );
        assert_eq!(
            generator_regex(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"),
            r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,4}"
        );
        assert_eq!(generator_regex("[+*]a+"), "[+*]a{1,4}");
    }

    #[test]
    fn billing_is_one_of_its_shapes_by_method() {
        let validator = component_validator("Billing");
        assert!(validator.is_valid(&json!({"method": "EMAIL_INVOICE", "email": "a@b.se"})));
        assert!(!validator.is_valid(&json!({"method": "EMAIL_INVOICE"})));
        assert!(!validator.is_valid(&json!({"method": "PAPER_INVOICE", "email": "a@b.se"})));
        let mut runner = TestRunner::deterministic();
        let billing = valid(&component("Billing"), Mode::Random, &[]);
        for _ in 0..32 {
            let value = billing.new_tree(&mut runner).expect("a value").current();
            assert!(validator.is_valid(&value), "{value}");
        }
    }
}
