//! Finding the line and column of a JSON pointer's node in YAML source text that the strict
//! reader (which records every position) could not read.
//!
//! This walks the text by indentation: block mappings
//! (`key: value`, plain or quoted keys) and block sequences (`- item`), the style OpenAPI
//! documents are written in. It is best effort: anything else (flow collections, anchors and
//! aliases, complex keys, multi-document streams) yields `None`, and messages then name the node
//! by its pointer alone. It never guesses: a position it returns is the node's.

pub use crate::source::Position;

/// Where the node `pointer` (`#/a/b/0` or `/a/b/0`) starts in `text`: for a mapping entry the
/// position of its key, for a sequence item the position of the item's content, for the root
/// the first line of content.
pub fn locate(text: &str, pointer: &str) -> Option<Position> {
    let lines: Vec<Line<'_>> = text.lines().map(Line::new).collect();
    let pointer = pointer.strip_prefix('#').unwrap_or(pointer);
    let mut segments: Vec<String> = Vec::new();
    if !pointer.is_empty() {
        let rest = pointer.strip_prefix('/')?;
        segments = rest
            .split('/')
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
    }

    // The current node: its content starts at `(line, column)` (0-based); further entries of a
    // block collection sit on later lines at the same indentation.
    let mut first = next_content(&lines, 0)?;
    // Directives and the document start marker come before the root node.
    while lines[first].text.starts_with('%') || lines[first].text.trim_end() == "---" {
        first = next_content(&lines, first + 1)?;
    }
    let mut node = Node {
        line: first,
        column: lines[first].indent,
    };
    let mut found = node;
    for (depth, segment) in segments.iter().enumerate() {
        let entry = match lines[node.line].rest(node.column) {
            rest if is_item(rest) => item(&lines, node, segment.parse().ok()?)?,
            _ => key(&lines, node, segment)?,
        };
        found = entry.at;
        if depth + 1 < segments.len() {
            node = entry.value?;
        }
    }
    Some(Position {
        line: found.line + 1,
        column: found.column + 1,
    })
}

#[derive(Clone, Copy, Debug)]
struct Node {
    line: usize,
    column: usize,
}

/// A mapping entry or sequence item: where it is, and where its value's content starts, if
/// that value is a block collection the walk can enter.
struct Entry {
    at: Node,
    value: Option<Node>,
}

struct Line<'a> {
    text: &'a str,
    /// Leading spaces; `usize::MAX` for blank and comment-only lines.
    indent: usize,
}

impl<'a> Line<'a> {
    fn new(text: &'a str) -> Self {
        let trimmed = text.trim_start_matches(' ');
        let blank = trimmed.trim().is_empty() || trimmed.starts_with('#');
        Self {
            text,
            indent: if blank {
                usize::MAX
            } else {
                text.len() - trimmed.len()
            },
        }
    }

    fn is_content(&self) -> bool {
        self.indent != usize::MAX
    }

    /// The text from byte `column` on (indentation is ASCII spaces, so bytes are columns there).
    fn rest(&self, column: usize) -> &'a str {
        self.text.get(column..).unwrap_or("")
    }
}

fn next_content(lines: &[Line<'_>], from: usize) -> Option<usize> {
    (from..lines.len()).find(|&i| lines[i].is_content())
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ") || text.starts_with("-\t")
}

/// The lines holding the entries of the block collection at `node`: its first line, then every
/// later line at the same indentation, until one indented less (or, for a sequence, until a
/// line at the same indentation that is not an item: a sequence may sit at its key's indentation).
fn entries<'l>(lines: &'l [Line<'_>], node: Node) -> impl Iterator<Item = usize> + 'l {
    let sequence = is_item(lines[node.line].rest(node.column));
    let rest = (node.line + 1..lines.len())
        .filter(|&i| lines[i].is_content())
        .take_while(move |&i| {
            lines[i].indent > node.column
                || (lines[i].indent == node.column
                    && (!sequence || is_item(lines[i].rest(node.column))))
        })
        .filter(move |&i| lines[i].indent == node.column);
    std::iter::once(node.line).chain(rest)
}

/// The `index`th item of the block sequence at `node`.
fn item(lines: &[Line<'_>], node: Node, index: usize) -> Option<Entry> {
    let line = entries(lines, node).nth(index)?;
    let after_dash = lines[line].rest(node.column + 1);
    let content = after_dash.trim_start_matches([' ', '\t']);
    let column = lines[line].text.len() - content.len();
    if content.is_empty() || content.starts_with('#') {
        // `-` alone: the item's content is on the next lines, indented further.
        let next = next_content(lines, line + 1)?;
        let value = (lines[next].indent > node.column).then_some(Node {
            line: next,
            column: lines[next].indent,
        });
        return Some(Entry {
            at: value.unwrap_or(Node {
                line,
                column: node.column,
            }),
            value,
        });
    }
    let at = Node { line, column };
    // A nested collection starting on the item's own line (`- key: value` or `- - x`).
    let value = (is_item(content) || split_key(content).is_some()).then_some(at);
    Some(Entry { at, value })
}

/// The entry with key `wanted` of the block mapping at `node`.
fn key(lines: &[Line<'_>], node: Node, wanted: &str) -> Option<Entry> {
    for line in entries(lines, node) {
        let Some((key, value)) = split_key(lines[line].rest(node.column)) else {
            continue;
        };
        if key != wanted {
            continue;
        }
        let at = Node {
            line,
            column: node.column,
        };
        let value = value.trim_start();
        if !(value.is_empty() || value.starts_with('#')) {
            // A scalar or a flow collection on the key's line: nothing to descend into.
            return Some(Entry { at, value: None });
        }
        let next = next_content(lines, line + 1);
        let value = next.and_then(|next| {
            let indent = lines[next].indent;
            let nested = indent > node.column
                || (indent == node.column && is_item(lines[next].rest(indent)));
            nested.then_some(Node {
                line: next,
                column: indent,
            })
        });
        return Some(Entry { at, value });
    }
    None
}

/// Splits `key: value` (or `key:` at the end of the line) into the key, unquoted, and the text
/// after the colon. Plain keys end at the first `: `; quoted keys may contain anything.
fn split_key(text: &str) -> Option<(String, &str)> {
    let (key, after) = match text.chars().next()? {
        '\'' => {
            let end = closing_quote(text, '\'')?;
            (text[1..end].replace("''", "'"), &text[end + 1..])
        }
        '"' => {
            let end = closing_quote(text, '"')?;
            (
                text[1..end].replace("\\\"", "\"").replace("\\\\", "\\"),
                &text[end + 1..],
            )
        }
        '-' if is_item(text) => return None,
        '?' | '{' | '[' | '&' | '*' | '!' | '|' | '>' | '#' => return None,
        _ => {
            let colon = text
                .match_indices(':')
                .map(|(i, _)| i)
                .find(|&i| matches!(text[i + 1..].chars().next(), None | Some(' ' | '\t')))?;
            (text[..colon].trim_end().to_string(), &text[colon..])
        }
    };
    let after = after.trim_start_matches([' ', '\t']);
    let value = after.strip_prefix(':')?;
    if !(value.is_empty() || value.starts_with([' ', '\t'])) {
        return None;
    }
    Some((key, value))
}

/// The byte index of the quote closing the quoted scalar at the start of `text`.
fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((index, c)) = chars.next() {
        match c {
            '\\' if quote == '"' => {
                chars.next();
            }
            c if c == quote => {
                // In single quotes, `''` is an escaped quote.
                if quote == '\'' && chars.peek().is_some_and(|&(_, next)| next == '\'') {
                    chars.next();
                } else {
                    return Some(index);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "\
# A comment before anything.
openapi: 3.0.3
info:
  title: Test
  description: |
    paths:
      not: a key
    - not an item
paths:
  /users/{id}:
    get:
      operationId: getUser
      parameters:
      - name: id
        in: path
      -   name: 'x-trace'   # a comment
          in: header
      -
        name: third
        in: query
      responses:
        '200':
          description: ok
        \"4XX\":
          description: error
  '/a:b':
    x-list:
      - - nested
        - second
      - {flow: map}
";

    fn at(pointer: &str) -> Option<(usize, usize)> {
        locate(SPEC, pointer).map(|p| (p.line, p.column))
    }

    #[test]
    fn finds_mapping_keys_at_every_depth() {
        assert_eq!(at("#"), Some((2, 1)));
        assert_eq!(at("#/openapi"), Some((2, 1)));
        assert_eq!(at("#/info/title"), Some((4, 3)));
        assert_eq!(at("#/paths"), Some((9, 1)));
        assert_eq!(at("#/paths/~1users~1{id}/get/operationId"), Some((12, 7)));
    }

    #[test]
    fn finds_sequence_items_in_every_layout() {
        // A sequence at its key's indentation, items with content on the dash's line.
        assert_eq!(at("#/paths/~1users~1{id}/get/parameters/0"), Some((14, 9)));
        assert_eq!(
            at("#/paths/~1users~1{id}/get/parameters/0/in"),
            Some((15, 9))
        );
        // Extra spaces after the dash, a quoted value and a trailing comment.
        assert_eq!(
            at("#/paths/~1users~1{id}/get/parameters/1/name"),
            Some((16, 11))
        );
        assert_eq!(
            at("#/paths/~1users~1{id}/get/parameters/1/in"),
            Some((17, 11))
        );
        // A dash alone on its line.
        assert_eq!(at("#/paths/~1users~1{id}/get/parameters/2"), Some((19, 9)));
        assert_eq!(
            at("#/paths/~1users~1{id}/get/parameters/2/in"),
            Some((20, 9))
        );
        // Nested sequences.
        assert_eq!(at("#/paths/~1a:b/x-list/0/1"), Some((29, 11)));
    }

    #[test]
    fn reads_quoted_keys() {
        assert_eq!(
            at("#/paths/~1users~1{id}/get/responses/200/description"),
            Some((23, 11))
        );
        assert_eq!(at("#/paths/~1users~1{id}/get/responses/4XX"), Some((24, 9)));
        assert_eq!(at("#/paths/~1a:b"), Some((26, 3)));
    }

    #[test]
    fn ignores_block_scalars_and_falls_back_to_none() {
        // Inside `description: |` nothing is a key or an item.
        assert_eq!(at("#/info/description/paths"), None);
        assert_eq!(at("#/info/not"), None);
        // Missing nodes, indexes past the end, scalars, and flow collections.
        assert_eq!(at("#/components"), None);
        assert_eq!(at("#/paths/~1users~1{id}/get/parameters/3"), None);
        assert_eq!(at("#/paths/~1users~1{id}/get/parameters/x"), None);
        assert_eq!(at("#/openapi/0"), None);
        assert_eq!(at("#/paths/~1a:b/x-list/1/flow"), None);
        assert_eq!(at("not a pointer"), None);
    }

    #[test]
    fn a_sequence_ends_at_the_next_key_of_its_parent() {
        let text = "a:\n- x\n- y\nb:\n- z\n";
        assert_eq!(
            locate(text, "/a/1").map(|p| (p.line, p.column)),
            Some((3, 3))
        );
        assert_eq!(locate(text, "/a/2"), None);
        assert_eq!(
            locate(text, "/b/0").map(|p| (p.line, p.column)),
            Some((5, 3))
        );
    }

    #[test]
    fn skips_directives_and_the_document_start() {
        let text = "%YAML 1.2\n---\na:\n  b: 1\n";
        assert_eq!(locate(text, "/a/b"), Some(Position { line: 4, column: 3 }));
    }

    /// Every mapping key of the real spec and of the test corpus is found, at its own text.
    #[test]
    fn locates_every_key_of_real_specs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let specs = [
            "../../openapi/connect.yaml",
            "tests/corpus/objects.yaml",
            "tests/corpus/parameters.yaml",
            "tests/corpus/responses.yaml",
        ];
        for spec in specs {
            let text = std::fs::read_to_string(root.join(spec)).unwrap();
            let value: serde_json::Value = serde_yaml::from_str(&text).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            let mut checked = 0;
            let mut stack = vec![(String::new(), &value)];
            while let Some((pointer, node)) = stack.pop() {
                let children: Vec<(String, &serde_json::Value)> = match node {
                    serde_json::Value::Object(map) => {
                        map.iter().map(|(k, v)| (k.clone(), v)).collect()
                    }
                    serde_json::Value::Array(items) => items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (i.to_string(), v))
                        .collect(),
                    _ => continue,
                };
                let is_map = node.is_object();
                for (key, child) in children {
                    let child_pointer =
                        format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                    // Flow collections (`[a, b]`) are not walked; the strict reader, which
                    // records every position, has them.
                    let Some(position) = locate(&text, &child_pointer) else {
                        let parent_line = locate(&text, &pointer).map(|p| lines[p.line - 1]);
                        assert!(
                            parent_line.is_some_and(|l| l.contains('[') || l.contains('{')),
                            "{spec}: {child_pointer} not found"
                        );
                        continue;
                    };
                    let at = &lines[position.line - 1][position.column - 1..];
                    if is_map {
                        let quoted = [
                            format!("{key}:"),
                            format!("'{key}':"),
                            format!("\"{key}\":"),
                        ];
                        assert!(
                            quoted.iter().any(|q| at.starts_with(q.as_str())),
                            "{spec}: {child_pointer} at {position}: {at}"
                        );
                    }
                    checked += 1;
                    stack.push((child_pointer, child));
                }
            }
            assert!(checked > 100, "{spec}: only {checked} nodes");
        }
    }

    #[test]
    fn splits_keys() {
        assert_eq!(split_key("a: b"), Some(("a".to_string(), " b")));
        assert_eq!(split_key("a:"), Some(("a".to_string(), "")));
        assert_eq!(
            split_key("http://x: y"),
            Some(("http://x".to_string(), " y"))
        );
        assert_eq!(split_key("'it''s': y"), Some(("it's".to_string(), " y")));
        assert_eq!(split_key(r#""a\"b" : y"#), Some(("a\"b".to_string(), " y")));
        assert_eq!(split_key("just text"), None);
        assert_eq!(split_key("'unterminated: x"), None);
        assert_eq!(split_key("- a: b"), None);
    }
}
