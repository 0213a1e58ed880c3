//! `cargo xtask`: a thin CLI over `crates/codegen` for every API of the workspace (listed in
//! `openapi/apis.toml`). Nothing depends on it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use codegen::files::{Mode, Outcome, ensure_file_contents};
use codegen::workspace::{self, ApiEntry, Manifest};

mod corpus;

/// Exit code of `check` when a generated file is stale (1 is any other failure).
const EXIT_STALE: u8 = 2;

/// Exit code of `breaking` when a spec breaks callers without a major version bump.
const EXIT_BREAKING: u8 = 3;

#[derive(Parser)]
#[command(
    about = "Generate the crates of every API in openapi/apis.toml, check that they are \
                   fresh, add or remove an API, or measure the generator on foreign documents"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write every generated file whose contents changed, printing each path written.
    Generate {
        /// Only this API (its `name` in openapi/apis.toml).
        #[arg(long)]
        api: Option<String>,
    },
    /// Write nothing; exit 2 with a diff when a generated file is stale.
    Check {
        /// Only this API.
        #[arg(long)]
        api: Option<String>,
    },
    /// Exit 3 when a spec breaks callers of an earlier version of it, unless `info.version`'s
    /// major version went up. The earlier version is `--base` (a git revision), or by default
    /// the first commit with the spec's current `info.version`: every change made under one
    /// version counts, not only the last.
    Breaking {
        /// Only this API.
        #[arg(long)]
        api: Option<String>,
        /// Git revision holding the earlier spec.
        #[arg(long)]
        base: Option<String>,
    },
    /// Add an API: copy its document to openapi/, list it in openapi/apis.toml, create its
    /// crates NAME-types, NAME-api and NAME-client, and generate them. A document the
    /// generator refuses changes nothing.
    NewApi {
        /// The API's name: lower case, digits and `-`.
        name: String,
        /// The OpenAPI 3.0 document (JSON or YAML).
        #[arg(long)]
        spec: PathBuf,
    },
    /// Write CHANGELOG.md: per API and per `info.version`, what changed since the version
    /// before, from the git history of its document (also written by `generate`, checked by
    /// `check`).
    Changelog,
    /// Remove an API: its crates, its document and its entry.
    RemoveApi {
        /// The API's name.
        name: String,
    },
    /// Run `new-api` for every document in DIR in a scratch workspace, `cargo check` its
    /// crates and run its round-trip proof; print one line per document, then totals.
    Corpus(corpus::Args),
    /// One document of `corpus`, in a child process (internal).
    #[command(hide = true)]
    CorpusOne(corpus::OneArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let result = match cli.command {
        Command::Generate { api } => run(&root, api.as_deref(), Mode::Overwrite),
        Command::Check { api } => run(&root, api.as_deref(), Mode::Verify),
        Command::Breaking { api, base } => breaking(&root, api.as_deref(), base),
        Command::Changelog => changelog(&root, Mode::Overwrite),
        Command::NewApi { name, spec } => new_api(&root, &name, &spec),
        Command::RemoveApi { name } => remove_api(&root, &name),
        Command::Corpus(args) => corpus::run(&root, &args),
        Command::CorpusOne(args) => corpus::one(&root, &args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The APIs `--api` selects: one, or all of them.
fn selected(root: &Path, api: Option<&str>) -> anyhow::Result<Vec<ApiEntry>> {
    let Manifest { apis } = workspace::read_manifest(root)?;
    match api {
        None => Ok(apis),
        Some(name) => {
            let found: Vec<ApiEntry> = apis.into_iter().filter(|a| a.name == name).collect();
            anyhow::ensure!(
                !found.is_empty(),
                "no API `{name}` in {}",
                workspace::MANIFEST
            );
            Ok(found)
        }
    }
}

fn run(root: &Path, api: Option<&str>, mode: Mode) -> anyhow::Result<ExitCode> {
    // The changelog reads every earlier version of each document, about as long as generating
    // everything takes: it is read on a thread of its own meanwhile (it reads the documents
    // only, never what is generated).
    std::thread::scope(|scope| {
        let changelog = api.is_none().then(|| scope.spawn(|| changelog_text(root)));
        let stale = generate(root, api, mode)?;
        let changelog_stale = match changelog {
            Some(thread) => {
                let text = thread
                    .join()
                    .expect("the changelog's thread does not panic")?;
                write_changelog(root, text.as_deref(), mode)? != ExitCode::SUCCESS
            }
            None => false,
        };
        let stale = stale + usize::from(changelog_stale);
        if stale > 0 {
            eprintln!("{stale} generated file(s) are stale: run `cargo xtask generate`");
            return Ok(ExitCode::from(EXIT_STALE));
        }
        if mode == Mode::Verify {
            println!("generated files are fresh");
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Generates (or, with [`Mode::Verify`], checks) the files of the APIs `api` selects; how many
/// were stale.
fn generate(root: &Path, api: Option<&str>, mode: Mode) -> anyhow::Result<usize> {
    let mut stale = 0;
    for entry in selected(root, api)? {
        entry.check_client_version(root)?;
        for (path, contents) in entry.generate(root)? {
            let shown = path
                .strip_prefix(root)
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
    }
    Ok(stale)
}

/// The changelog's file, at the workspace's root.
const CHANGELOG: &str = "CHANGELOG.md";

/// Writes (or, with [`Mode::Verify`], checks) CHANGELOG.md. A shallow clone has no history to
/// read: it says so and leaves the file alone.
fn changelog(root: &Path, mode: Mode) -> anyhow::Result<ExitCode> {
    let text = changelog_text(root)?;
    write_changelog(root, text.as_deref(), mode)
}

/// CHANGELOG.md's text, from the history of every API's document (`None`: a shallow clone).
fn changelog_text(root: &Path) -> anyhow::Result<Option<String>> {
    if git(root, &["rev-parse", "--is-shallow-repository"])?.trim() == "true" {
        return Ok(None);
    }
    let mut text = String::from(
        "# Changelog\n\nGenerated by `cargo xtask changelog` from the git history of each API's \
         document (listed in `openapi/apis.toml`); do not edit it by hand. Per `info.version`, \
         newest first: what changed since the version before, the changes that break callers \
         of the version before listed first.\n\n",
    );
    for entry in selected(root, None)? {
        let mut versions: Vec<codegen::changelog::Version> = Vec::new();
        let mut keep = |text: &str| {
            // A version of the document that no longer loads has nothing to compare.
            let Ok(spec) = codegen::load_str(Path::new(&entry.spec), text) else {
                return;
            };
            let version = spec.doc.info.version.clone();
            match versions.last_mut() {
                Some(last) if last.version == version => last.doc = spec.raw,
                _ => versions.push(codegen::changelog::Version {
                    version,
                    doc: spec.raw,
                }),
            }
        };
        for commit in git(root, &["rev-list", "--reverse", "HEAD", "--", &entry.spec])?.lines() {
            if let Ok(old) = git(root, &["show", &format!("{commit}:{}", entry.spec)]) {
                keep(&old);
            }
        }
        let current = std::fs::read_to_string(root.join(&entry.spec))
            .with_context(|| format!("reading {}", entry.spec))?;
        keep(&current);
        let title = codegen::load_str(Path::new(&entry.spec), &current)
            .map(|spec| spec.doc.info.title.clone())
            .unwrap_or_else(|_| entry.name.clone());
        text.push_str(&codegen::changelog::render(&title, &entry.spec, &versions));
    }
    Ok(Some(format!("{}\n", text.trim_end())))
}

/// Writes (or checks) CHANGELOG.md as `text` (`None`: a shallow clone, which leaves it alone).
fn write_changelog(root: &Path, text: Option<&str>, mode: Mode) -> anyhow::Result<ExitCode> {
    let Some(text) = text else {
        eprintln!("{CHANGELOG}: a shallow clone has no history of the specs: not checked");
        return Ok(ExitCode::SUCCESS);
    };
    let path = root.join(CHANGELOG);
    match ensure_file_contents(&path, text, mode).with_context(|| format!("writing {CHANGELOG}"))? {
        Outcome::Unchanged => {}
        Outcome::Written => println!("wrote {CHANGELOG}"),
        Outcome::Stale(diff) => {
            eprintln!("{diff}");
            eprintln!("{CHANGELOG} is stale");
            return Ok(ExitCode::from(EXIT_STALE));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn new_api(root: &Path, name: &str, spec: &Path) -> anyhow::Result<ExitCode> {
    let request = workspace::NewApi {
        name: name.to_string(),
        spec: spec.to_path_buf(),
    };
    let plan = workspace::plan_new_api(root, &request)?;
    plan.apply(root)?;
    for (path, _) in &plan.writes {
        println!("wrote {}", path.display());
    }
    // The changelog lists every API of the manifest: the new one too, so `check` stays clean.
    changelog(root, Mode::Overwrite)?;
    let receiver = plan
        .writes
        .iter()
        .any(|(path, _)| path.starts_with(format!("crates/{name}-webhooks")));
    let receiver = match receiver {
        true => format!(" -p {name}-webhooks"),
        false => String::new(),
    };
    println!(
        "added the API `{name}`: `cargo check -p {name}-api -p {name}-client{receiver}` builds \
         it, `cargo test -p {name}-api` runs its round-trip proof"
    );
    Ok(ExitCode::SUCCESS)
}

fn remove_api(root: &Path, name: &str) -> anyhow::Result<ExitCode> {
    let plan = workspace::plan_remove_api(root, name)?;
    plan.apply(root)?;
    for path in &plan.removals {
        println!("removed {}", path.display());
    }
    for (path, _) in &plan.writes {
        println!("wrote {}", path.display());
    }
    changelog(root, Mode::Overwrite)?;
    Ok(ExitCode::SUCCESS)
}

fn breaking(root: &Path, api: Option<&str>, base: Option<String>) -> anyhow::Result<ExitCode> {
    let mut code = ExitCode::SUCCESS;
    for entry in selected(root, api)? {
        if breaking_one(root, &entry.spec, base.clone())? {
            code = ExitCode::from(EXIT_BREAKING);
        }
    }
    Ok(code)
}

/// Whether `spec` breaks its callers without a major version bump (reported on stderr).
fn breaking_one(root: &Path, spec: &str, base: Option<String>) -> anyhow::Result<bool> {
    let new_text =
        std::fs::read_to_string(root.join(spec)).with_context(|| format!("reading {spec}"))?;
    let new = codegen::load_str(Path::new(spec), &new_text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let base = match base {
        Some(base) => Some(base),
        None => default_base(root, spec, &new.doc.info.version)?,
    };
    let Some(base) = base else {
        println!("{spec} has no earlier version to compare with");
        return Ok(false);
    };
    let Ok(old_text) = git(root, &["show", &format!("{base}:{spec}")]) else {
        println!("{spec} is not in {base}: nothing to compare with");
        return Ok(false);
    };
    let label = format!("{base}:{spec}");
    let old =
        codegen::load_str(Path::new(&label), &old_text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let changes = codegen::breaking::breaking_changes(&old.raw, &new.raw);
    if changes.is_empty() {
        println!("no breaking changes in {spec} since {base}");
        return Ok(false);
    }
    for change in &changes {
        eprintln!("breaking: {change}");
    }
    let major = |version: &str| {
        version
            .split('.')
            .next()
            .and_then(|m| m.trim_start_matches('v').parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (before, after) = (&old.doc.info.version, &new.doc.info.version);
    if major(after) > major(before) {
        println!(
            "{} breaking change(s) in {spec} since {base}, allowed: info.version went from {before} to {after}",
            changes.len()
        );
        return Ok(false);
    }
    eprintln!(
        "{} breaking change(s) in {spec} since {base}: make them compatible, or raise \
         info.version's major version (now {after}) and the client's version with it",
        changes.len()
    );
    Ok(true)
}

/// The spec callers may rely on: the first commit that has the spec's current `info.version`
/// (so every change since that version appeared counts, not only the last one), or HEAD when
/// the working copy has just changed the version; `None` when the spec is not committed yet.
fn default_base(root: &Path, spec: &str, version: &str) -> anyhow::Result<Option<String>> {
    if git(root, &["rev-parse", "--is-shallow-repository"])?.trim() == "true" {
        anyhow::bail!(
            "this is a shallow clone: fetch the spec's history (git fetch --unshallow) or pass --base"
        );
    }
    let mut base = None;
    for commit in git(root, &["rev-list", "HEAD", "--", spec])?.lines() {
        let Ok(text) = git(root, &["show", &format!("{commit}:{spec}")]) else {
            break;
        };
        let same = codegen::load_str(Path::new(spec), &text)
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
            &["rev-parse", "--verify", "--quiet", &format!("HEAD:{spec}")],
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

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo test` fails when a generated file of any API is stale, as `cargo xtask check`
    /// does.
    #[test]
    fn generated_files_are_fresh() {
        let root = workspace_root();
        let mut stale = Vec::new();
        for entry in workspace::read_manifest(&root).expect("the manifest").apis {
            for (path, contents) in entry.generate(&root).expect("the spec generates") {
                if let Outcome::Stale(diff) =
                    ensure_file_contents(&path, &contents, Mode::Verify).unwrap()
                {
                    stale.push(format!("{}\n{diff}", path.display()));
                }
            }
        }
        assert!(
            stale.is_empty(),
            "stale generated files (run `cargo xtask generate`):\n{}",
            stale.join("\n")
        );
    }

    /// `cargo test` fails when a client's version is not its spec's, as `cargo xtask` does.
    #[test]
    fn client_versions_are_the_spec_versions() {
        let root = workspace_root();
        for entry in workspace::read_manifest(&root).expect("the manifest").apis {
            if let Err(error) = entry.check_client_version(&root) {
                panic!("{error:#}");
            }
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
