//! No input makes the generator panic: mangled versions of the corpus (retyped or deleted
//! nodes, awkward names and defaults, damaged lines) go through `load_str` and `generate` and
//! come back as `Ok` or `Err`. The mutations are deterministic (a fixed seed), so a failure
//! reproduces; the failing mutation is printed with the spec it produced.

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::Value;

use crate::common::{CORPUS, corpus_label, corpus_text, run};

/// Mutations per corpus spec and kind.
const ROUNDS: usize = 12;

/// xorshift64: deterministic, and enough to pick nodes and lines.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// Every node of `value` as a JSON pointer, in document order.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                pointers(
                    child,
                    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{index}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// Deletes a key, or gives a node a value of another type.
fn mutate_value(document: &Value, rng: &mut Rng) -> (String, Value) {
    let mut document = document.clone();
    let mut all = Vec::new();
    pointers(&document, String::new(), &mut all);
    let at = all[rng.below(all.len())].clone();
    // Half the time, delete the node (the root aside) from its mapping or sequence.
    if rng.below(2) == 0
        && let Some((parent, key)) = at.rsplit_once('/')
    {
        let key = key.replace("~1", "/").replace("~0", "~");
        match document.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.shift_remove(&key);
            }
            Some(Value::Array(items)) => {
                items.remove(key.parse::<usize>().expect("an index"));
            }
            _ => unreachable!("a parent is a container"),
        }
        return (format!("delete {at}"), document);
    }
    let node = document
        .pointer_mut(&at)
        .expect("the pointer was just listed");
    let replacement = match node {
        Value::String(_) => serde_json::json!(7),
        Value::Number(_) => serde_json::json!("seven"),
        Value::Bool(_) => serde_json::json!("yes"),
        Value::Null => serde_json::json!({}),
        Value::Array(_) => serde_json::json!({"a": 1}),
        Value::Object(_) => serde_json::json!(["a"]),
    };
    let what = format!("retype {at} to {replacement}");
    *node = replacement;
    (what, document)
}

/// Names no Rust identifier spells as they are: keywords (`self` cannot even be raw), a digit
/// first, nothing but separators.
const AWKWARD_NAMES: [&str; 8] = ["self", "Self", "super", "2fa", "123list", "", "-", "gen"];

/// Defaults of the wrong shape for most parameters: the generated code parses the default.
const AWKWARD_DEFAULTS: [&str; 6] = [r#""ten""#, "null", "1.5", "3000000000", r#""XL""#, "[0]"];

/// Gives an operationId, a parameter or a response header an awkward name, or a `default` an
/// awkward value: the names and values the generated code is built from.
fn mutate_name(document: &Value, rng: &mut Rng) -> (String, Value) {
    let mut document = document.clone();
    let mut all = Vec::new();
    pointers(&document, String::new(), &mut all);
    // One kind of target first, so that the rarer kinds are reached as often as operationIds.
    let kinds: [&dyn Fn(&str) -> bool; 4] = [
        &|at| at.ends_with("/operationId"),
        &|at| at.ends_with("/name") && at.contains("/parameters/"),
        &|at| at.rsplit('/').nth(1) == Some("headers"),
        &|at| at.ends_with("/default"),
    ];
    let kinds: Vec<Vec<&String>> = kinds
        .iter()
        .map(|is| all.iter().filter(|at| is(at)).collect::<Vec<_>>())
        .filter(|targets| !targets.is_empty())
        .collect();
    let targets = &kinds[rng.below(kinds.len())];
    let at = targets[rng.below(targets.len())].clone();
    if at.ends_with("/default") {
        let value: Value =
            serde_json::from_str(AWKWARD_DEFAULTS[rng.below(AWKWARD_DEFAULTS.len())])
                .expect("JSON");
        let what = format!("set {at} to {value}");
        *document.pointer_mut(&at).expect("listed") = value;
        return (what, document);
    }
    let name = AWKWARD_NAMES[rng.below(AWKWARD_NAMES.len())];
    let what = format!("rename {at} to {name:?}");
    if at.ends_with("/operationId") || at.ends_with("/name") {
        *document.pointer_mut(&at).expect("listed") = Value::String(name.to_string());
    } else {
        // A header is named by its key.
        let (parent, key) = at.rsplit_once('/').expect("a header has a parent");
        let key = key.replace("~1", "/").replace("~0", "~");
        let headers = document
            .pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .expect("headers are a mapping");
        let header = headers.shift_remove(&key).expect("listed");
        headers.insert(name.to_string(), header);
    }
    (what, document)
}

/// Deletes, duplicates or re-indents a line, or cuts the text short.
fn mutate_text(text: &str, rng: &mut Rng) -> (String, String) {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let index = rng.below(lines.len());
    let what = match rng.below(4) {
        0 => {
            lines.remove(index);
            format!("delete line {}", index + 1)
        }
        1 => {
            lines.insert(index, lines[index].clone());
            format!("duplicate line {}", index + 1)
        }
        2 => {
            lines[index] = format!("  {}", lines[index]);
            format!("indent line {}", index + 1)
        }
        _ => {
            let line = &lines[index];
            let cut = line
                .char_indices()
                .map(|(i, _)| i)
                .nth(rng.below(line.chars().count()))
                .unwrap_or(0);
            lines[index].truncate(cut);
            lines.truncate(index + 1);
            format!("cut the text in line {}", index + 1)
        }
    };
    (what, lines.join("\n") + "\n")
}

/// Runs the generator on `text`, reporting a panic as an error message.
fn survives(label: &str, what: &str, text: &str) -> Result<bool, String> {
    match catch_unwind(AssertUnwindSafe(|| run(label, text))) {
        Ok(result) => Ok(result.is_ok()),
        Err(_) => Err(format!("{label}: {what} panicked; the spec was:\n{text}")),
    }
}

#[test]
fn mutated_specs_return_ok_or_err_without_panicking() {
    let mut rng = Rng(0x5eed_c0de_f00d_9e17);
    let (mut runs, mut accepted, mut panics) = (0, 0, Vec::new());
    for name in CORPUS {
        let label = corpus_label(name);
        let text = corpus_text(name);
        let document: Value = serde_yaml::from_str(&text).expect("the corpus parses");
        for _ in 0..ROUNDS {
            let yaml = |value: &Value| {
                serde_yaml::to_string(value).expect("JSON values serialize as YAML")
            };
            let (what, mutated) = mutate_value(&document, &mut rng);
            let (name_what, renamed) = mutate_name(&document, &mut rng);
            let (text_what, cut) = mutate_text(&text, &mut rng);
            for (what, text) in [
                (what, yaml(&mutated)),
                (name_what, yaml(&renamed)),
                (text_what, cut),
            ] {
                runs += 1;
                match survives(&label, &what, &text) {
                    Ok(ok) => accepted += usize::from(ok),
                    Err(panic) => panics.push(panic),
                }
            }
        }
    }
    assert!(
        panics.is_empty(),
        "{} of {runs} mutations panicked:\n{}",
        panics.len(),
        panics.join("\n\n")
    );
    // Some mutations must be refused, or the mutator is not reaching anything that matters.
    assert!(accepted < runs, "all {runs} mutated specs were accepted");
}
