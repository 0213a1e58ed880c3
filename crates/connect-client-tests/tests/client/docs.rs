//! The README's quickstart is the crate docs' quickstart, which compiles as a doctest.

use std::path::Path;

/// The first ```` ```rust,no_run ```` block after `heading`.
fn quickstart(text: &str, heading: &str) -> String {
    let after = &text[text.find(heading).expect("a quickstart heading")..];
    let start = after.find("```rust,no_run\n").expect("a code block") + "```rust,no_run\n".len();
    let end = after[start..].find("```").expect("the block's end");
    after[start..start + end].to_string()
}

#[test]
fn the_readme_quickstart_is_the_crate_docs_quickstart() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../connect-client");
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let docs: String = lib
        .lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .map(|line| format!("{}\n", line.strip_prefix(' ').unwrap_or(line)))
        .collect();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();

    assert_eq!(
        quickstart(&readme, "## Quickstart"),
        quickstart(&docs, "# Quickstart"),
        "README.md's quickstart differs from src/lib.rs's"
    );
}
