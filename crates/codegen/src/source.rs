//! Source text to a JSON value, remembering where every node was written.
//!
//! A document is JSON when its file name ends in `.json` (or its first character is `{`), YAML
//! otherwise. JSON goes through serde_json, so every valid JSON document (surrogate-pair escapes
//! included) reads as written. YAML goes through saphyr's event parser, which reports the line
//! and column of every node: the loader records them by JSON pointer, so that any error can name
//! the line of the node it is about, whatever the YAML style (block, flow, or JSON written as
//! YAML). Either way a UTF-8 byte-order mark is skipped.
//!
//! Hostile input is refused before it costs much: aliases may not expand a YAML document beyond
//! [`MAX_ALIAS_NODES`] nodes (or its own size) and nesting stops at [`MAX_DEPTH`]. Values JSON
//! cannot hold faithfully are errors at their pointer, not silent changes: integers beyond the
//! 64-bit range, `.nan` and `.inf`, non-string mapping keys and duplicate keys.

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use serde_json::{Map, Number, Value};

use crate::pointer::{Pointer, escape};

/// A 1-based line and column in the source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// How deep collections may nest (serde_json's own limit is 128).
pub const MAX_DEPTH: usize = 128;

/// The most nodes aliases may add to a YAML document beyond the nodes written in it.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// The text format of a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    /// The format of a file, by its name, or by its first character when the name says nothing.
    pub fn of(path: &std::path::Path, text: &str) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => Self::Json,
            Some(ext) if ext.eq_ignore_ascii_case("yaml") || ext.eq_ignore_ascii_case("yml") => {
                Self::Yaml
            }
            _ if strip_bom(text).trim_start().starts_with('{') => Self::Json,
            _ => Self::Yaml,
        }
    }
}

/// Why a text is not a document.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadError {
    /// The text is not well-formed JSON or YAML.
    Syntax { position: Position, message: String },
    /// Well-formed, but a node cannot be a JSON value (or is too costly to build).
    Node {
        pointer: Pointer,
        position: Option<Position>,
        message: String,
    },
}

/// A document read from text: its value, and where its nodes are.
#[derive(Clone, Debug)]
pub struct Document {
    pub value: Value,
    pub format: Format,
    /// YAML: the position of every node written in the text, by pointer (for a mapping entry its
    /// key, for a sequence item its content); `None` when the text was read leniently (see
    /// [`lenient`]) and positions are found on demand. JSON positions are found on demand.
    positions: Option<HashMap<String, Position>>,
}

impl Document {
    /// Where the node `pointer` was written in `text` (the text this document was read from).
    pub fn locate(&self, text: &str, pointer: &str) -> Option<Position> {
        let pointer = pointer.strip_prefix('#').unwrap_or(pointer);
        match self.format {
            Format::Yaml => match &self.positions {
                Some(positions) => positions.get(pointer).copied(),
                None => crate::locate::locate(strip_bom(text), pointer),
            },
            Format::Json => json::locate(strip_bom(text), pointer),
        }
    }
}

/// Reads `text` as `format`.
pub fn read(text: &str, format: Format) -> Result<Document, ReadError> {
    // Positions count from after the mark, which is no column anyone sees.
    let body = strip_bom(text);
    match format {
        Format::Json => {
            let value = json::read(body)?;
            Ok(Document {
                value,
                format,
                positions: None,
            })
        }
        Format::Yaml => {
            match yaml::read(body) {
                Ok((value, positions)) => Ok(Document {
                    value,
                    format,
                    positions: Some(positions),
                }),
                // saphyr follows YAML 1.2 to the letter; libyaml, which most tools use, is more
                // forgiving (a flow collection's closing bracket left of its key, say), so a
                // document libyaml reads is read, with positions found on demand.
                Err(strict @ ReadError::Syntax { .. }) => match lenient::read(body) {
                    Ok(value) => Ok(Document {
                        value,
                        format,
                        positions: None,
                    }),
                    Err(lenient::Failure::Syntax(error)) => Err(error),
                    Err(lenient::Failure::Other) => Err(strict),
                },
                Err(other) => Err(other),
            }
        }
    }
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

mod yaml {
    use super::*;

    /// A collection being built.
    enum Frame {
        Sequence {
            items: Vec<Value>,
            anchor: usize,
            pointer: String,
        },
        Mapping {
            entries: Map<String, Value>,
            /// The key read, waiting for its value.
            key: Option<(String, bool)>,
            /// Keys that came from merge keys (`<<`), which written keys override.
            merged: std::collections::HashSet<String>,
            anchor: usize,
            pointer: String,
        },
    }

    impl Frame {
        fn pointer(&self) -> &str {
            match self {
                Frame::Sequence { pointer, .. } | Frame::Mapping { pointer, .. } => pointer,
            }
        }
    }

    struct Reader {
        stack: Vec<Frame>,
        /// Anchored values by anchor id, with their node counts.
        anchors: HashMap<usize, (Value, usize)>,
        positions: HashMap<String, Position>,
        root: Option<Value>,
        /// Nodes written in the text, and nodes added by aliases.
        written: usize,
        aliased: usize,
        /// Node counts of the values inside each open collection, for anchors.
        counts: Vec<usize>,
    }

    fn position(span: &Span) -> Position {
        Position {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }

    pub fn read(text: &str) -> Result<(Value, HashMap<String, Position>), ReadError> {
        let mut reader = Reader {
            stack: Vec::new(),
            anchors: HashMap::new(),
            positions: HashMap::new(),
            root: None,
            written: 0,
            aliased: 0,
            counts: Vec::new(),
        };
        let mut documents = 0;
        for event in Parser::new_from_str(text) {
            let (event, span) = event.map_err(|error| ReadError::Syntax {
                position: Position {
                    line: error.marker().line(),
                    column: error.marker().col() + 1,
                },
                message: error.info().to_string(),
            })?;
            match event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(ReadError::Syntax {
                            position: position(&span),
                            message: "a second YAML document in the stream: a spec is one document"
                                .into(),
                        });
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                    reader.scalar(&text, style, anchor, tag.as_deref(), &span)?;
                }
                Event::Alias(anchor) => reader.alias(anchor, &span)?,
                Event::SequenceStart(anchor, _) => {
                    let pointer = reader.open(&span)?;
                    reader.stack.push(Frame::Sequence {
                        items: Vec::new(),
                        anchor,
                        pointer,
                    });
                }
                Event::MappingStart(anchor, _) => {
                    let pointer = reader.open(&span)?;
                    reader.stack.push(Frame::Mapping {
                        entries: Map::new(),
                        key: None,
                        merged: Default::default(),
                        anchor,
                        pointer,
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => reader.close(&span)?,
                _ => {}
            }
        }
        let root = reader.root.unwrap_or(Value::Null);
        Ok((root, reader.positions))
    }

    impl Reader {
        /// The pointer of the node about to be read, recording where it starts; `None` when
        /// the node is a mapping key.
        fn next_pointer(&mut self, span: &Span) -> Option<String> {
            let pointer = match self.stack.last() {
                None => String::new(),
                Some(Frame::Sequence { items, pointer, .. }) => {
                    format!("{pointer}/{}", items.len())
                }
                Some(Frame::Mapping {
                    key: Some((key, _)),
                    pointer,
                    ..
                }) => format!("{pointer}/{}", escape(key)),
                Some(Frame::Mapping { key: None, .. }) => return None,
            };
            if !matches!(self.stack.last(), Some(Frame::Mapping { .. })) {
                self.positions.insert(pointer.clone(), position(span));
            }
            Some(pointer)
        }

        fn node_error(&self, pointer: &str, span: &Span, message: String) -> ReadError {
            ReadError::Node {
                pointer: Pointer::parse(pointer),
                position: Some(position(span)),
                message,
            }
        }

        fn open(&mut self, span: &Span) -> Result<String, ReadError> {
            let Some(pointer) = self.next_pointer(span) else {
                let at = self
                    .stack
                    .last()
                    .map(Frame::pointer)
                    .unwrap_or_default()
                    .to_string();
                return Err(self.node_error(
                    &at,
                    span,
                    "a mapping key must be a string, not a collection".into(),
                ));
            };
            if self.stack.len() >= MAX_DEPTH {
                return Err(self.node_error(
                    &pointer,
                    span,
                    format!("collections nest more than {MAX_DEPTH} levels deep"),
                ));
            }
            self.written += 1;
            self.counts.push(1);
            Ok(pointer)
        }

        fn close(&mut self, span: &Span) -> Result<(), ReadError> {
            let frame = self.stack.pop().expect("the parser balances collections");
            let count = self.counts.pop().unwrap_or(1);
            let (value, anchor, pointer) = match frame {
                Frame::Sequence {
                    items,
                    anchor,
                    pointer,
                } => (Value::Array(items), anchor, pointer),
                Frame::Mapping {
                    entries,
                    key,
                    anchor,
                    pointer,
                    ..
                } => {
                    if key.is_some() {
                        return Err(self.node_error(
                            &pointer,
                            span,
                            "a key without a value".into(),
                        ));
                    }
                    (Value::Object(entries), anchor, pointer)
                }
            };
            if anchor != 0 {
                self.anchors.insert(anchor, (value.clone(), count));
            }
            self.push(value, count, &pointer, span)
        }

        fn scalar(
            &mut self,
            text: &str,
            style: ScalarStyle,
            anchor: usize,
            tag: Option<&str>,
            span: &Span,
        ) -> Result<(), ReadError> {
            let Some(pointer) = self.next_pointer(span) else {
                return self.key(text, style, span);
            };
            self.written += 1;
            let value = resolve(text, style, tag)
                .map_err(|message| self.node_error(&pointer, span, message))?;
            if anchor != 0 {
                self.anchors.insert(anchor, (value.clone(), 1));
            }
            self.push(value, 1, &pointer, span)
        }

        fn key(&mut self, text: &str, style: ScalarStyle, span: &Span) -> Result<(), ReadError> {
            let Some(Frame::Mapping {
                entries,
                key,
                merged,
                pointer,
                ..
            }) = self.stack.last_mut()
            else {
                unreachable!("keys are read inside mappings");
            };
            let plain = style == ScalarStyle::Plain;
            if plain && matches!(text, "" | "~" | "null" | "Null" | "NULL") {
                let at = pointer.clone();
                return Err(self.node_error(
                    &at,
                    span,
                    "a mapping key must be a string, not null".into(),
                ));
            }
            // A plain key is its text as written (`200:` is the key "200").
            if entries.contains_key(text) && !merged.remove(text) {
                let at = format!("{pointer}/{}", escape(text));
                return Err(self.node_error(&at, span, format!("duplicate key `{text}`")));
            }
            let at = format!("{pointer}/{}", escape(text));
            *key = Some((text.to_string(), plain && text == "<<"));
            self.positions.insert(at, position(span));
            Ok(())
        }

        fn alias(&mut self, anchor: usize, span: &Span) -> Result<(), ReadError> {
            let Some(pointer) = self.next_pointer(span) else {
                let at = self
                    .stack
                    .last()
                    .map(Frame::pointer)
                    .unwrap_or_default()
                    .to_string();
                return Err(self.node_error(
                    &at,
                    span,
                    "a mapping key must be a string, not an alias".into(),
                ));
            };
            let Some((value, count)) = self.anchors.get(&anchor).cloned() else {
                return Err(self.node_error(
                    &pointer,
                    span,
                    "an alias of an unknown anchor".into(),
                ));
            };
            self.aliased += count;
            if self.aliased > MAX_ALIAS_NODES.max(self.written) {
                return Err(self.node_error(
                    &pointer,
                    span,
                    format!(
                        "aliases expand the document by more than {} nodes: refused as an alias bomb",
                        MAX_ALIAS_NODES.max(self.written)
                    ),
                ));
            }
            self.push(value, count, &pointer, span)
        }

        /// Puts a finished value where it belongs: the root, a sequence item, or the value of
        /// the pending key (merged into the mapping when the key is `<<`).
        fn push(
            &mut self,
            value: Value,
            count: usize,
            pointer: &str,
            span: &Span,
        ) -> Result<(), ReadError> {
            if let Some(total) = self.counts.last_mut() {
                *total += count;
            }
            match self.stack.last_mut() {
                None => self.root = Some(value),
                Some(Frame::Sequence { items, .. }) => items.push(value),
                Some(Frame::Mapping { entries, key, .. }) => {
                    let (key, merge) = key.take().expect("a value follows its key");
                    if !merge {
                        entries.insert(key, value);
                        return Ok(());
                    }
                    // `<<: *base` or `<<: [*a, *b]`: entries the mapping lacks, earlier first.
                    let sources = match value {
                        Value::Object(map) => vec![map],
                        Value::Array(items) if items.iter().all(Value::is_object) => items
                            .into_iter()
                            .filter_map(|item| match item {
                                Value::Object(map) => Some(map),
                                _ => None,
                            })
                            .collect(),
                        _ => {
                            let at = pointer.to_string();
                            return Err(self.node_error(
                                &at,
                                span,
                                "a merge key (`<<`) takes a mapping or a list of mappings".into(),
                            ));
                        }
                    };
                    let Some(Frame::Mapping {
                        entries, merged, ..
                    }) = self.stack.last_mut()
                    else {
                        unreachable!()
                    };
                    for source in sources {
                        for (k, v) in source {
                            if !entries.contains_key(&k) {
                                merged.insert(k.clone());
                                entries.insert(k, v);
                            }
                        }
                    }
                }
            }
            Ok(())
        }
    }

    /// A scalar's value under the YAML 1.2 core schema (as serde_yaml reads it): quoted scalars
    /// are strings; plain ones may be null, booleans, integers or floats.
    fn resolve(text: &str, style: ScalarStyle, tag: Option<&str>) -> Result<Value, String> {
        let string = || Ok(Value::String(text.to_string()));
        match tag {
            Some("tag:yaml.org,2002:str") => return string(),
            Some(
                "tag:yaml.org,2002:int"
                | "tag:yaml.org,2002:float"
                | "tag:yaml.org,2002:bool"
                | "tag:yaml.org,2002:null",
            ) => {
                return plain(text)
                    .unwrap_or_else(|| Err(format!("`{text}` does not fit its tag")));
            }
            Some(other) if other != "!" => {
                return Err(format!("the tag `{other}` is not supported"));
            }
            _ => {}
        }
        if style != ScalarStyle::Plain {
            return string();
        }
        plain(text).unwrap_or_else(string)
    }

    /// The value of a plain scalar that is not a string, if it is not.
    fn plain(text: &str) -> Option<Result<Value, String>> {
        Some(Ok(match text {
            "" | "~" | "null" | "Null" | "NULL" => Value::Null,
            "true" | "True" | "TRUE" => Value::Bool(true),
            "false" | "False" | "FALSE" => Value::Bool(false),
            ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF"
            | "-.inf" | "-.Inf" | "-.INF" => {
                return Some(Err(format!(
                    "`{text}` is not a finite number, and JSON has no other kind"
                )));
            }
            _ => return number(text),
        }))
    }

    fn number(text: &str) -> Option<Result<Value, String>> {
        let (sign, digits) = match text.as_bytes().first()? {
            b'-' => (-1, &text[1..]),
            b'+' => (1, &text[1..]),
            _ => (1, text),
        };
        let radix = |prefix: &str, radix: u32| {
            digits
                .strip_prefix(prefix)
                .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_digit(radix)))
                .map(|d| (d, radix))
        };
        let integer = if digits.bytes().all(|b| b.is_ascii_digit()) && !digits.is_empty() {
            Some((digits, 10))
        } else {
            radix("0x", 16).or_else(|| radix("0o", 8))
        };
        if let Some((digits, radix)) = integer {
            let out_of_range = || {
                Err(format!(
                    "the integer `{text}` is outside the 64-bit range JSON numbers are read in"
                ))
            };
            let Ok(magnitude) = u128::from_str_radix(digits, radix) else {
                return Some(out_of_range());
            };
            let value = if sign < 0 {
                match i64::try_from(magnitude) {
                    Ok(m) => Number::from(-m),
                    Err(_) if magnitude == 1 << 63 => Number::from(i64::MIN),
                    Err(_) => return Some(out_of_range()),
                }
            } else {
                match u64::try_from(magnitude) {
                    Ok(m) => Number::from(m),
                    Err(_) => return Some(out_of_range()),
                }
            };
            return Some(Ok(Value::Number(value)));
        }
        // `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
        let (mantissa, exponent) = match digits.find(['e', 'E']) {
            Some(at) => (&digits[..at], Some(&digits[at + 1..])),
            None => (digits, None),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let mantissa_ok = mantissa.contains('.')
            && all_digits(whole)
            && all_digits(fraction)
            && !(whole.is_empty() && fraction.is_empty());
        let exponent_ok = exponent.is_none_or(|e| {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && all_digits(e)
        });
        let shaped = (mantissa_ok
            || (exponent.is_some() && !whole.is_empty() && all_digits(whole)))
            && exponent_ok;
        if !shaped {
            return None;
        }
        let value: f64 = text.parse().ok()?;
        Some(match Number::from_f64(value) {
            Some(number) => Ok(Value::Number(number)),
            None => Err(format!(
                "`{text}` is not a finite number, and JSON has no other kind"
            )),
        })
    }
}

/// YAML as libyaml (through serde_yaml) reads it, with the same bounds as the strict reader:
/// the nodes built (aliases expanded) and the nesting are counted, and non-finite numbers
/// refused. Pointers of refused nodes are not known here.
mod lenient {
    use std::cell::Cell;

    use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

    use super::*;

    pub enum Failure {
        Syntax(ReadError),
        /// A bound or a value JSON cannot hold: the strict reader's error says it better.
        Other,
    }

    pub fn read(text: &str) -> Result<Value, Failure> {
        let budget = Cell::new(text.len() + MAX_ALIAS_NODES);
        let deserializer = serde_yaml::Deserializer::from_str(text);
        Seed {
            budget: &budget,
            depth: 0,
        }
        .deserialize(deserializer)
        .map_err(|error: serde_yaml::Error| match error.location() {
            Some(location) if !error.to_string().contains(BOUND) => {
                Failure::Syntax(ReadError::Syntax {
                    position: Position {
                        line: location.line(),
                        column: location.column(),
                    },
                    message: error.to_string().replacen(
                        &format!(" at line {} column {}", location.line(), location.column()),
                        "",
                        1,
                    ),
                })
            }
            _ => Failure::Other,
        })
    }

    const BOUND: &str = "beyond the reader's bounds";

    #[derive(Clone, Copy)]
    struct Seed<'b> {
        budget: &'b Cell<usize>,
        depth: usize,
    }

    impl Seed<'_> {
        fn spend<E: de::Error>(&self) -> Result<(), E> {
            match self.budget.get().checked_sub(1) {
                Some(left) if self.depth <= MAX_DEPTH => {
                    self.budget.set(left);
                    Ok(())
                }
                _ => Err(E::custom(BOUND)),
            }
        }

        fn deeper(self) -> Self {
            Self {
                budget: self.budget,
                depth: self.depth + 1,
            }
        }
    }

    impl<'de> DeserializeSeed<'de> for Seed<'_> {
        type Value = Value;

        fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
            deserializer.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Seed<'_> {
        type Value = Value;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a YAML node")
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
            self.spend()?;
            Ok(Value::Bool(v))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
            self.spend()?;
            Ok(Value::from(v))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
            self.spend()?;
            Ok(Value::from(v))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
            self.spend()?;
            Number::from_f64(v)
                .map(Value::Number)
                .ok_or_else(|| E::custom(BOUND))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
            self.spend()?;
            Ok(Value::String(v.to_string()))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
            self.spend()?;
            Ok(Value::Null)
        }

        fn visit_none<E: de::Error>(self) -> Result<Value, E> {
            self.visit_unit()
        }

        fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            self.spend()?;
            let mut items = Vec::new();
            while let Some(item) = seq.next_element_seed(self.deeper())? {
                items.push(item);
            }
            Ok(Value::Array(items))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            self.spend()?;
            let mut entries = Map::new();
            while let Some(key) = map.next_key_seed(self.deeper())? {
                let key = match key {
                    Value::String(text) => text,
                    Value::Number(number) => number.to_string(),
                    Value::Bool(flag) => flag.to_string(),
                    _ => return Err(de::Error::custom("a mapping key must be a string")),
                };
                let value = map.next_value_seed(self.deeper())?;
                if entries.insert(key.clone(), value).is_some() {
                    return Err(de::Error::custom(format!("duplicate key `{key}`")));
                }
            }
            Ok(Value::Object(entries))
        }
    }
}

mod json {
    use super::*;

    pub fn read(text: &str) -> Result<Value, ReadError> {
        let value: Value = serde_json::from_str(text).map_err(|error| ReadError::Syntax {
            position: Position {
                line: error.line(),
                column: error.column(),
            },
            message: strip_location(&error.to_string()),
        })?;
        // serde_json reads an integer beyond 64 bits as a float; say so instead.
        let mut walker = Walker::new(text);
        if let Some((pointer, position, literal)) = walker.find_big_integer() {
            return Err(ReadError::Node {
                pointer: Pointer::parse(&pointer),
                position: Some(position),
                message: format!(
                    "the integer `{literal}` is outside the 64-bit range JSON numbers are read in"
                ),
            });
        }
        Ok(value)
    }

    /// serde_json ends its messages with " at line L column C".
    fn strip_location(message: &str) -> String {
        match message.rfind(" at line ") {
            Some(at) => message[..at].to_string(),
            None => message.to_string(),
        }
    }

    /// Where the node `pointer` starts in the (well-formed) JSON `text`: for an object member
    /// the position of its key, for an array item or the root the position of the value.
    pub fn locate(text: &str, pointer: &str) -> Option<Position> {
        let segments: Vec<String> = if pointer.is_empty() {
            Vec::new()
        } else {
            pointer
                .strip_prefix('/')?
                .split('/')
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect()
        };
        let mut walker = Walker::new(text);
        walker.skip_space();
        let mut at = walker.position();
        for segment in &segments {
            match walker.peek()? {
                b'{' => {
                    walker.bump();
                    loop {
                        walker.skip_space();
                        if walker.peek()? == b'}' {
                            return None;
                        }
                        let key_at = walker.position();
                        let key = walker.string()?;
                        walker.skip_space();
                        walker.expect(b':')?;
                        walker.skip_space();
                        if &key == segment {
                            at = key_at;
                            break;
                        }
                        walker.skip_value()?;
                        walker.skip_space();
                        if walker.peek()? == b',' {
                            walker.bump();
                        }
                    }
                }
                b'[' => {
                    let index: usize = segment.parse().ok()?;
                    walker.bump();
                    for _ in 0..index {
                        walker.skip_space();
                        walker.skip_value()?;
                        walker.skip_space();
                        walker.expect(b',')?;
                    }
                    walker.skip_space();
                    at = walker.position();
                }
                _ => return None,
            }
        }
        Some(at)
    }

    /// A cursor over JSON text that already parsed, so it checks little.
    struct Walker<'t> {
        bytes: &'t [u8],
        at: usize,
        line: usize,
        line_start: usize,
    }

    impl<'t> Walker<'t> {
        fn new(text: &'t str) -> Self {
            Self {
                bytes: text.as_bytes(),
                at: 0,
                line: 1,
                line_start: 0,
            }
        }

        fn position(&self) -> Position {
            // Columns count characters, not bytes.
            let column = String::from_utf8_lossy(&self.bytes[self.line_start..self.at])
                .chars()
                .count()
                + 1;
            Position {
                line: self.line,
                column,
            }
        }

        fn peek(&self) -> Option<u8> {
            self.bytes.get(self.at).copied()
        }

        fn bump(&mut self) {
            if self.peek() == Some(b'\n') {
                self.line += 1;
                self.line_start = self.at + 1;
            }
            self.at += 1;
        }

        fn expect(&mut self, byte: u8) -> Option<()> {
            (self.peek()? == byte).then(|| self.bump())
        }

        fn skip_space(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.bump();
            }
        }

        /// A string token, decoded.
        fn string(&mut self) -> Option<String> {
            let start = self.at;
            self.skip_string()?;
            serde_json::from_slice(&self.bytes[start..self.at]).ok()
        }

        fn skip_string(&mut self) -> Option<()> {
            self.expect(b'"')?;
            loop {
                match self.peek()? {
                    b'"' => {
                        self.bump();
                        return Some(());
                    }
                    b'\\' => {
                        self.bump();
                        self.bump();
                    }
                    _ => self.bump(),
                }
            }
        }

        fn skip_value(&mut self) -> Option<()> {
            match self.peek()? {
                b'"' => self.skip_string(),
                b'{' | b'[' => {
                    let mut depth = 0usize;
                    loop {
                        match self.peek()? {
                            b'"' => self.skip_string()?,
                            b'{' | b'[' => {
                                depth += 1;
                                self.bump();
                            }
                            b'}' | b']' => {
                                depth -= 1;
                                self.bump();
                                if depth == 0 {
                                    return Some(());
                                }
                            }
                            _ => self.bump(),
                        }
                    }
                }
                _ => {
                    while !matches!(
                        self.peek(),
                        None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                    ) {
                        self.bump();
                    }
                    Some(())
                }
            }
        }

        /// The first integer literal outside the 64-bit range, with its pointer.
        fn find_big_integer(&mut self) -> Option<(String, Position, String)> {
            // The path to the current value: keys and indexes.
            enum Step {
                Key(String),
                Index(usize),
            }
            let mut path: Vec<Step> = Vec::new();
            let pointer = |path: &[Step]| -> String {
                path.iter()
                    .map(|step| match step {
                        Step::Key(key) => format!("/{}", escape(key)),
                        Step::Index(index) => format!("/{index}"),
                    })
                    .collect()
            };
            // Whether the next string is a key.
            let mut expect_key = false;
            while let Some(byte) = self.peek() {
                match byte {
                    b'{' => {
                        self.bump();
                        path.push(Step::Key(String::new()));
                        expect_key = true;
                    }
                    b'[' => {
                        self.bump();
                        path.push(Step::Index(0));
                        expect_key = false;
                    }
                    b'}' | b']' => {
                        self.bump();
                        path.pop();
                    }
                    b',' => {
                        self.bump();
                        match path.last_mut() {
                            Some(Step::Index(index)) => *index += 1,
                            Some(Step::Key(_)) => expect_key = true,
                            None => {}
                        }
                    }
                    b'"' if expect_key => {
                        let key = self.string()?;
                        if let Some(Step::Key(current)) = path.last_mut() {
                            *current = key;
                        }
                        expect_key = false;
                    }
                    b'"' => self.skip_string()?,
                    b'-' | b'0'..=b'9' => {
                        let start = self.at;
                        let position = self.position();
                        self.skip_value()?;
                        let literal = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
                        let integer = !literal.contains(['.', 'e', 'E']);
                        if integer
                            && literal.parse::<i64>().is_err()
                            && literal.parse::<u64>().is_err()
                        {
                            return Some((pointer(&path), position, literal.to_string()));
                        }
                    }
                    _ => self.bump(),
                }
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Document {
        read(text, Format::Yaml).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn node_error(text: &str, format: Format) -> (String, Option<Position>, String) {
        match read(text, format) {
            Err(ReadError::Node {
                pointer,
                position,
                message,
            }) => (pointer.to_string(), position, message),
            other => panic!("expected a node error, got {other:?}"),
        }
    }

    #[test]
    fn yaml_scalars_resolve_as_the_core_schema_says() {
        let doc = yaml(
            "a: 1\nb: -2\nc: 1.5\nd: 1e3\ne: true\nf: ~\ng: '1'\nh: 0x1F\ni: 0o17\nj: 1.0.0\nk: yes\nl: .5\n200: ok\n",
        );
        assert_eq!(
            doc.value,
            serde_json::json!({
                "a": 1, "b": -2, "c": 1.5, "d": 1000.0, "e": true, "f": null, "g": "1",
                "h": 31, "i": 15, "j": "1.0.0", "k": "yes", "l": 0.5, "200": "ok"
            })
        );
    }

    #[test]
    fn yaml_positions_are_recorded_for_every_style() {
        let text = "paths:\n  /a:\n    get: {operationId: x, tags: [one, two]}\nlist:\n  - first\n  - second: 2\n";
        let doc = yaml(text);
        let at = |pointer: &str| doc.locate(text, pointer).map(|p| (p.line, p.column));
        assert_eq!(at("#/paths"), Some((1, 1)));
        assert_eq!(at("#/paths/~1a/get"), Some((3, 5)));
        assert_eq!(at("#/paths/~1a/get/operationId"), Some((3, 11)));
        assert_eq!(at("#/paths/~1a/get/tags/1"), Some((3, 39)));
        assert_eq!(at("#/list/1/second"), Some((6, 5)));
        assert_eq!(at("#/nowhere"), None);
    }

    #[test]
    fn anchors_aliases_and_merge_keys_expand() {
        let doc = yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\ncopy: *b\n");
        assert_eq!(
            doc.value,
            serde_json::json!({"base": {"x": 1, "y": 2}, "other": {"y": 3, "x": 1}, "copy": {"x": 1, "y": 2}})
        );
    }

    #[test]
    fn an_alias_bomb_is_refused_fast() {
        let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for pair in names.windows(2) {
            let refs = vec![format!("*{}", pair[0]); 9].join(", ");
            text.push_str(&format!("{}: &{} [{refs}]\n", pair[1], pair[1]));
        }
        let started = std::time::Instant::now();
        let (_, _, message) = node_error(&text, Format::Yaml);
        assert!(message.contains("alias bomb"), "{message}");
        // Generous: the refusal comes long before the billion nodes would be built.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn values_json_cannot_hold_are_errors_at_their_pointer() {
        let (pointer, position, message) =
            node_error("a:\n  b: 18446744073709551616\n", Format::Yaml);
        assert_eq!(pointer, "#/a/b");
        assert_eq!(position, Some(Position { line: 2, column: 6 }));
        assert!(message.contains("64-bit"), "{message}");
        let (pointer, _, message) = node_error("maxLength: .nan\n", Format::Yaml);
        assert_eq!(pointer, "#/maxLength");
        assert!(message.contains("finite"), "{message}");
        let (pointer, _, message) = node_error("a: 1\na: 2\n", Format::Yaml);
        assert_eq!(pointer, "#/a");
        assert!(message.contains("duplicate key"), "{message}");
        let (pointer, position, message) = node_error(
            "{\n  \"a\": [1,\n    -99999999999999999999]\n}",
            Format::Json,
        );
        assert_eq!(pointer, "#/a/1");
        assert_eq!(position, Some(Position { line: 3, column: 5 }));
        assert!(message.contains("64-bit"), "{message}");
    }

    #[test]
    fn json_is_read_as_json_with_its_escapes_and_a_bom() {
        let text = "\u{feff}{\"thumbs\": \"\\ud83d\\udc4d\", \"n\": 18446744073709551615}";
        let doc = read(text, Format::Json).unwrap();
        assert_eq!(doc.value["thumbs"], "\u{1f44d}");
        assert_eq!(doc.value["n"], serde_json::json!(u64::MAX));
        let yaml_bom = yaml("\u{feff}a: 1\n");
        assert_eq!(yaml_bom.value, serde_json::json!({"a": 1}));
    }

    #[test]
    fn json_nodes_are_located() {
        let text = "{\n  \"paths\": {\n    \"/a\": {\"get\": {\"tags\": [\"x\", \"y\"]}}\n  }\n}\n";
        let doc = read(text, Format::Json).unwrap();
        let at = |pointer: &str| doc.locate(text, pointer).map(|p| (p.line, p.column));
        assert_eq!(at("#/paths"), Some((2, 3)));
        assert_eq!(at("#/paths/~1a/get"), Some((3, 12)));
        assert_eq!(at("#/paths/~1a/get/tags/1"), Some((3, 34)));
        assert_eq!(at("#/paths/~1b"), None);
    }

    #[test]
    fn yaml_libyaml_reads_is_read_too() {
        // The closing brace sits left of the key it belongs to: YAML 1.2 says no, libyaml yes.
        let text = "a:\n  b: {\n    \"c\": 1\n }\nd: 2\n";
        let doc = yaml(text);
        assert_eq!(doc.value, serde_json::json!({"a": {"b": {"c": 1}}, "d": 2}));
        assert_eq!(
            doc.locate(text, "#/d"),
            Some(Position { line: 5, column: 1 })
        );
    }

    #[test]
    fn syntax_errors_have_a_position() {
        for (text, format) in [("a: [1, 2\n", Format::Yaml), ("{\"a\": }", Format::Json)] {
            match read(text, format) {
                Err(ReadError::Syntax { position, .. }) => assert!(position.line >= 1),
                other => panic!("{other:?}"),
            }
        }
    }
}
