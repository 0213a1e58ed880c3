//! `cargo xtask generate | check`: a thin CLI over `crates/codegen`. Nothing depends on it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use codegen::files::{Mode, Outcome, ensure_file_contents};

/// Exit code of `check` when a generated file is stale (1 is any other failure).
const EXIT_STALE: u8 = 2;

#[derive(Parser)]
#[command(
    about = "Generate the Connect API crates from openapi/connect.yaml, or check that they are fresh"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write every generated file whose contents changed, printing each path written.
    Generate,
    /// Write nothing; exit 2 with a diff when a generated file is stale.
    Check,
    /// Exit 3 when the spec breaks callers of an earlier version of it, unless `info.version`'s
    /// major version went up. The earlier version is `--base` (a git revision), or by default
    /// the first commit with the spec's current `info.version`: every change made under one
    /// version counts, not only the last.
    Breaking {
        /// Git revision holding the earlier spec.
        #[arg(long)]
        base: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate => run(Mode::Overwrite),
        Command::Check => run(Mode::Verify),
        Command::Breaking { base } => breaking(&workspace_root(), base),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(mode: Mode) -> anyhow::Result<ExitCode> {
    let root = workspace_root();
    check_client_version(&root)?;
    let mut stale = 0;
    for (path, contents) in connect_files(&root)? {
        let shown = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .display()
            .to_string();
        match ensure_file_contents(&path, &contents, mode)
            .with_context(|| format!("writing {shown}"))?
        {
            Outcome::Unchanged => {}
            Outcome::Written => println!("wrote {shown}"),
            Outcome::Stale(diff) => {
                stale += 1;
                eprintln!("{diff}");
                eprintln!("{shown} is stale");
            }
        }
    }
    if stale > 0 {
        eprintln!("{stale} generated file(s) are stale: run `cargo xtask generate`");
        return Ok(ExitCode::from(EXIT_STALE));
    }
    if mode == Mode::Verify {
        println!("generated files are fresh");
    }
    Ok(ExitCode::SUCCESS)
}

/// Exit code of `breaking` when the spec breaks callers without a major version bump.
const EXIT_BREAKING: u8 = 3;

const SPEC: &str = "openapi/connect.yaml";

fn breaking(root: &Path, base: Option<String>) -> anyhow::Result<ExitCode> {
    let new_text =
        std::fs::read_to_string(root.join(SPEC)).with_context(|| format!("reading {SPEC}"))?;
    let new = codegen::load_str(Path::new(SPEC), &new_text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let base = match base {
        Some(base) => Some(base),
        None => default_base(root, &new.doc.info.version)?,
    };
    let Some(base) = base else {
        println!("{SPEC} has no earlier version to compare with");
        return Ok(ExitCode::SUCCESS);
    };
    let old_text = git(root, &["show", &format!("{base}:{SPEC}")])?;
    let label = format!("{base}:{SPEC}");
    let old =
        codegen::load_str(Path::new(&label), &old_text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let changes = codegen::breaking::breaking_changes(&old.raw, &new.raw);
    if changes.is_empty() {
        println!("no breaking changes in {SPEC} since {base}");
        return Ok(ExitCode::SUCCESS);
    }
    for change in &changes {
        eprintln!("breaking: {change}");
    }
    let major = |version: &str| {
        version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (before, after) = (&old.doc.info.version, &new.doc.info.version);
    if major(after) > major(before) {
        println!(
            "{} breaking change(s) since {base}, allowed: info.version went from {before} to {after}",
            changes.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "{} breaking change(s) since {base}: make them compatible, or raise info.version's major \
         version (now {after}) and the client's version with it",
        changes.len()
    );
    Ok(ExitCode::from(EXIT_BREAKING))
}

/// The spec callers may rely on: the first commit that has the spec's current `info.version`
/// (so every change since that version appeared counts, not only the last one), or HEAD when
/// the working copy has just changed the version; `None` when the spec is not committed yet.
fn default_base(root: &Path, version: &str) -> anyhow::Result<Option<String>> {
    if git(root, &["rev-parse", "--is-shallow-repository"])?.trim() == "true" {
        anyhow::bail!(
            "this is a shallow clone: fetch the spec's history (git fetch --unshallow) or pass --base"
        );
    }
    let mut base = None;
    for commit in git(root, &["rev-list", "HEAD", "--", SPEC])?.lines() {
        let Ok(text) = git(root, &["show", &format!("{commit}:{SPEC}")]) else {
            break;
        };
        let same = codegen::load_str(Path::new(SPEC), &text)
            .is_ok_and(|old| old.doc.info.version == version);
        if !same {
            break;
        }
        base = Some(commit.to_string());
    }
    match base {
        Some(base) => Ok(Some(base)),
        None if git(
            root,
            &["rev-parse", "--verify", "--quiet", &format!("HEAD:{SPEC}")],
        )
        .is_ok() =>
        {
            Ok(Some("HEAD".to_string()))
        }
        None => Ok(None),
    }
}

fn git(root: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = std::process::Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .with_context(|| format!("running git {}", args.join(" ")))?;
    if !output.status.success() {
        anyhow::bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// Every generated file of the workspace with the contents the generator gives it.
fn connect_files(root: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let spec_path = Path::new("openapi/connect.yaml");
    let text = std::fs::read_to_string(root.join(spec_path))
        .with_context(|| format!("reading {}", spec_path.display()))?;
    // Messages name the spec by its path in the repository, as designers know it.
    let spec = codegen::load_str(spec_path, &text).map_err(|error| anyhow::anyhow!("{error}"))?;
    let output =
        codegen::generate(&spec, &settings()).map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(vec![
        (
            root.join("crates/connect-types/src/generated.rs"),
            output.types,
        ),
        (root.join("crates/connect-api/src/generated.rs"), output.api),
        (
            root.join("crates/connect-client/src/generated.rs"),
            output.client,
        ),
    ])
}

/// The client crate is published with the API's version: its `Cargo.toml` `version` must be the
/// spec's `info.version`, so that `connect-client 1.2.0` speaks Connect API 1.2.0.
fn check_client_version(root: &Path) -> anyhow::Result<()> {
    let spec_path = Path::new("openapi/connect.yaml");
    let text = std::fs::read_to_string(root.join(spec_path))
        .with_context(|| format!("reading {}", spec_path.display()))?;
    let spec = codegen::load_str(spec_path, &text).map_err(|error| anyhow::anyhow!("{error}"))?;
    let spec_version = spec.doc.info.version;

    let manifest_path = Path::new("crates/connect-client/Cargo.toml");
    let manifest = std::fs::read_to_string(root.join(manifest_path))
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    // The `version = "..."` line of the `[package]` table; no TOML parser for one line.
    let client_version = manifest
        .lines()
        .skip_while(|line| line.trim() != "[package]")
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with('['))
        .find_map(|line| {
            let (key, value) = line.split_once('=')?;
            let value = value.split('#').next()?.trim().trim_matches('"');
            (key.trim() == "version").then(|| value.to_string())
        })
        .with_context(|| {
            format!(
                "{} has no literal `version = \"...\"` in [package]",
                manifest_path.display()
            )
        })?;

    anyhow::ensure!(
        client_version == spec_version,
        "{} has version {client_version} but {} has info.version {spec_version}: \
         the client is published with the API's version, so make them equal",
        manifest_path.display(),
        spec_path.display(),
    );
    Ok(())
}

fn settings() -> codegen::Settings {
    codegen::Settings {
        source_label: "openapi/connect.yaml".to_string(),
        trait_name: "ConnectApi".to_string(),
        types_crate: "::connect_types".to_string(),
        error_schema: "Error".to_string(),
        // The client's hooks add the API key to requests sent through any reqwest::Client.
        client_inner_type: Some("crate::auth::ClientState".to_string()),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo test` fails when a generated file is stale, as `cargo xtask check` does.
    #[test]
    fn generated_files_are_fresh() {
        let root = workspace_root();
        let mut stale = Vec::new();
        for (path, contents) in connect_files(&root).expect("the spec generates") {
            if let Outcome::Stale(diff) =
                ensure_file_contents(&path, &contents, Mode::Verify).unwrap()
            {
                stale.push(format!("{}\n{diff}", path.display()));
            }
        }
        assert!(
            stale.is_empty(),
            "stale generated files (run `cargo xtask generate`):\n{}",
            stale.join("\n")
        );
    }

    /// `cargo test` fails when connect-client's version is not the spec's, as `cargo xtask` does.
    #[test]
    fn client_version_is_the_spec_version() {
        if let Err(error) = check_client_version(&workspace_root()) {
            panic!("{error:#}");
        }
    }

    /// The root README's client snippet is the client crate's quickstart doctest, so it compiles.
    #[test]
    fn readme_client_snippet_is_the_client_doctest() {
        fn first_block(text: &str, heading: &str) -> String {
            let after = &text[text.find(heading).expect("the heading")..];
            let start = after.find("```rust,no_run\n").expect("a rust,no_run block")
                + "```rust,no_run\n".len();
            let end = after[start..].find("```").expect("the block's end");
            after[start..start + end].to_string()
        }
        let root = workspace_root();
        let lib = std::fs::read_to_string(root.join("crates/connect-client/src/lib.rs")).unwrap();
        let docs: String = lib
            .lines()
            .filter_map(|line| line.strip_prefix("//!"))
            .map(|line| format!("{}\n", line.strip_prefix(' ').unwrap_or(line)))
            .collect();
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        assert_eq!(
            first_block(&readme, "## Using the client"),
            first_block(&docs, "# Quickstart"),
            "README.md's client snippet differs from the client's quickstart doctest"
        );
    }
}
