//! `cargo xtask corpus DIR`: the generator measured on documents nobody here wrote.
//!
//! Each document runs in a child process (so that a panic or a stack overflow in the generator
//! ends one document, not the run) with a deadline. The child does what `new-api` does, in a
//! scratch workspace of its own outside the repository whose dependencies are the
//! repository's (same `Cargo.lock`, one shared target directory, so they build once), then
//! `cargo check`s the API and client crates and runs the round-trip proof.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

/// The marker before the child's one line of result.
const RESULT: &str = "CORPUS-RESULT ";

#[derive(clap::Args)]
pub struct Args {
    /// The folder of documents (`*.json`, `*.yaml`, `*.yml`).
    dir: PathBuf,
    /// Also write the results as JSON.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep the scratch workspaces (printed at the end).
    #[arg(long)]
    keep: bool,
    /// Seconds one document may take, generation, check and proof together.
    #[arg(long, default_value_t = 900)]
    timeout: u64,
    /// Only documents whose file name contains this.
    #[arg(long)]
    only: Option<String>,
    /// The shared target directory (default: `target/corpus` of this workspace).
    #[arg(long)]
    target: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct OneArgs {
    doc: PathBuf,
    #[arg(long)]
    work: PathBuf,
    #[arg(long)]
    target: PathBuf,
    /// Where copies of the runtime crates are (default: this workspace's own).
    #[arg(long)]
    snapshot: Option<PathBuf>,
}

/// The workspace crates a scratch workspace depends on by path.
const SNAPSHOT: [&str; 3] = ["spec-schema", "spec-runtime", "codegen"];

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// One document's result.
#[derive(Clone, Debug)]
struct Outcome {
    document: String,
    outcome: String,
    detail: String,
    openapi: String,
    operations: usize,
    generate: f64,
    check: f64,
    proof: f64,
}

impl Outcome {
    fn to_json(&self) -> Value {
        json!({
            "document": self.document, "outcome": self.outcome, "detail": self.detail,
            "openapi": self.openapi, "operations": self.operations,
            "generate_secs": self.generate, "check_secs": self.check, "proof_secs": self.proof,
        })
    }

    fn from_json(value: &Value) -> Option<Self> {
        Some(Self {
            document: value["document"].as_str()?.to_string(),
            outcome: value["outcome"].as_str()?.to_string(),
            detail: value["detail"].as_str().unwrap_or_default().to_string(),
            openapi: value["openapi"].as_str().unwrap_or_default().to_string(),
            operations: value["operations"].as_u64().unwrap_or(0) as usize,
            generate: value["generate_secs"].as_f64().unwrap_or(0.0),
            check: value["check_secs"].as_f64().unwrap_or(0.0),
            proof: value["proof_secs"].as_f64().unwrap_or(0.0),
        })
    }
}

pub fn run(root: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let mut documents: Vec<PathBuf> = std::fs::read_dir(&args.dir)
        .with_context(|| format!("reading {}", args.dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "json" | "yaml" | "yml"))
        })
        .filter(|path| {
            args.only.as_ref().is_none_or(|only| {
                path.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains(only.as_str()))
            })
        })
        .collect();
    documents.sort();
    anyhow::ensure!(
        !documents.is_empty(),
        "no *.json, *.yaml or *.yml in {}",
        args.dir.display()
    );
    let work = std::env::temp_dir().join(format!("xtask-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let target = args
        .target
        .clone()
        .unwrap_or_else(|| root.join("target/corpus"));
    // The runtime crates as they are now, so that editing them does not disturb a long run.
    let snapshot = work.join("snapshot");
    for name in SNAPSHOT {
        copy_dir(
            &root.join("crates").join(name),
            &snapshot.join("crates").join(name),
        )?;
    }
    // Their workspace, for the fields they inherit.
    let members: Vec<String> = SNAPSHOT.iter().map(|n| format!("crates/{n}")).collect();
    std::fs::write(
        snapshot.join("Cargo.toml"),
        workspace_manifest(root, &members, None)?,
    )?;
    let exe = std::env::current_exe().context("finding the xtask binary")?;
    let started = Instant::now();
    let mut results = Vec::new();
    for document in &documents {
        let name = document
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let result = run_child(
            &exe,
            document,
            &work,
            &target,
            args.timeout,
            &name,
            &snapshot,
        )?;
        println!("{}", line(&result));
        results.push(result);
    }
    println!();
    for line in totals(&results, started.elapsed()) {
        println!("{line}");
    }
    if let Some(out) = &args.out {
        let json = Value::Array(results.iter().map(Outcome::to_json).collect());
        std::fs::write(out, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| format!("writing {}", out.display()))?;
    }
    if args.keep {
        println!("scratch workspaces kept in {}", work.display());
    } else {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs one document in a child process, killing it (and the cargo it started) at the deadline.
fn run_child(
    exe: &Path,
    document: &Path,
    work: &Path,
    target: &Path,
    timeout: u64,
    name: &str,
    snapshot: &Path,
) -> anyhow::Result<Outcome> {
    use std::os::unix::process::CommandExt;
    let log = work.join(format!("{name}.log"));
    let stdout = std::fs::File::create(&log)?;
    let started = Instant::now();
    let mut child = Command::new(exe)
        .arg("corpus-one")
        .arg(document)
        .arg("--work")
        .arg(work)
        .arg("--target")
        .arg(target)
        .arg("--snapshot")
        .arg(snapshot)
        .stdout(stdout)
        .stderr(Stdio::piped())
        // Its own process group, so that the deadline ends cargo and rustc too.
        .process_group(0)
        .spawn()
        .context("starting a child xtask")?;
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = started + Duration::from_secs(timeout);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = reader.join().unwrap_or_default();
    let stdout = std::fs::read_to_string(&log).unwrap_or_default();
    let reported = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT))
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .and_then(|v| Outcome::from_json(&v));
    Ok(match (status, reported) {
        (_, Some(result)) => result,
        (None, None) => Outcome {
            document: name.to_string(),
            outcome: "timeout".to_string(),
            detail: format!("over {timeout} s"),
            openapi: String::new(),
            operations: 0,
            generate: started.elapsed().as_secs_f64(),
            check: 0.0,
            proof: 0.0,
        },
        (Some(status), None) => Outcome {
            document: name.to_string(),
            outcome: "panic".to_string(),
            detail: format!(
                "{status}: {}",
                stderr
                    .lines()
                    .find(|l| l.contains("panicked") || l.contains("overflow"))
                    .or_else(|| stderr.lines().last())
                    .unwrap_or_default()
            ),
            openapi: String::new(),
            operations: 0,
            generate: started.elapsed().as_secs_f64(),
            check: 0.0,
            proof: 0.0,
        },
    })
}

fn line(result: &Outcome) -> String {
    let detail = match result.detail.as_str() {
        "" => String::new(),
        detail => format!(": {detail}"),
    };
    format!(
        "{:<44} {:>5} ops  gen {:>6.2}s  check {:>6.1}s  proof {:>5.1}s  {}{}",
        result.document,
        result.operations,
        result.generate,
        result.check,
        result.proof,
        result.outcome,
        detail
    )
}

fn totals(results: &[Outcome], elapsed: Duration) -> Vec<String> {
    let count = |outcome: &str| results.iter().filter(|r| r.outcome == outcome).count();
    let v30: Vec<&Outcome> = results
        .iter()
        .filter(|r| r.openapi.starts_with("3.0"))
        .collect();
    let v31: Vec<&Outcome> = results
        .iter()
        .filter(|r| r.openapi.starts_with("3.1"))
        .collect();
    let ops: usize = results.iter().map(|r| r.operations).sum();
    let ops_passed: usize = results
        .iter()
        .filter(|r| r.outcome == "compiles+proof")
        .map(|r| r.operations)
        .sum();
    let mut out = vec![format!(
        "{} documents in {:.0} s: {} compiles+proof, {} compiles but the proof differs, {} refused, \
         {} generated but does not compile, {} panic, {} timeout",
        results.len(),
        elapsed.as_secs_f64(),
        count("compiles+proof"),
        count("compiles, proof differs"),
        count("refused"),
        count("generated but does not compile"),
        count("panic"),
        count("timeout"),
    )];
    for (version, documents) in [("3.0", &v30), ("3.1", &v31)] {
        if documents.is_empty() {
            continue;
        }
        let passed = documents
            .iter()
            .filter(|r| r.outcome == "compiles+proof")
            .count();
        out.push(format!(
            "OpenAPI {version}: {passed} of {} documents compile and pass the proof ({:.0}%)",
            documents.len(),
            100.0 * passed as f64 / documents.len() as f64
        ));
    }
    out.push(format!(
        "operations: {ops_passed} of {ops} are in documents that compile and pass the proof"
    ));
    out
}

/// The child: one document, start to end; prints one result line.
pub fn one(root: &Path, args: &OneArgs) -> anyhow::Result<ExitCode> {
    let document = args
        .doc
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut result = Outcome {
        document: document.clone(),
        outcome: String::new(),
        detail: String::new(),
        openapi: String::new(),
        operations: 0,
        generate: 0.0,
        check: 0.0,
        proof: 0.0,
    };
    if let Ok(text) = std::fs::read_to_string(&args.doc)
        && let Ok(spec) = codegen::load_str(&args.doc, &text)
    {
        // The version the document was written in (an OpenAPI 3.1 one is read as 3.0.3).
        result.openapi = spec.source_version().unwrap_or_default().to_string();
        result.operations = count_operations(&spec.raw);
    } else if let Ok(text) = std::fs::read_to_string(&args.doc) {
        // Refused documents still count their operations, read loosely.
        let raw: Option<Value> = serde_json::from_str(&text).ok().or_else(|| {
            serde_yaml::from_str::<serde_yaml::Value>(&text)
                .ok()
                .and_then(|y| serde_json::to_value(y).ok())
        });
        if let Some(raw) = raw {
            result.openapi = raw["openapi"]
                .as_str()
                .or(raw["swagger"].as_str())
                .unwrap_or_default()
                .to_string();
            result.operations = count_operations(&raw);
        }
    }
    let name = api_name(&document);
    let scratch = args.work.join(&name);
    let _ = std::fs::remove_dir_all(&scratch);
    scratch_workspace(root, &scratch, args.snapshot.as_deref())?;
    let started = Instant::now();
    let request = codegen::workspace::NewApi {
        name: name.clone(),
        spec: args.doc.clone(),
    };
    let planned = codegen::workspace::plan_new_api(&scratch, &request);
    result.generate = started.elapsed().as_secs_f64();
    match planned {
        Err(error) => {
            result.outcome = "refused".to_string();
            result.detail = error.to_string().replace('\n', " ");
        }
        Ok(plan) => {
            plan.apply(&scratch)?;
            let started = Instant::now();
            let check = cargo(
                &scratch,
                &args.target,
                &[
                    "check",
                    "-p",
                    &format!("{name}-api"),
                    "-p",
                    &format!("{name}-client"),
                ],
            )?;
            result.check = started.elapsed().as_secs_f64();
            if let Err(error) = check {
                result.outcome = "generated but does not compile".to_string();
                result.detail = error;
            } else {
                let started = Instant::now();
                let proof = cargo(
                    &scratch,
                    &args.target,
                    &["test", "-p", &format!("{name}-api"), "--test", "roundtrip"],
                )?;
                result.proof = started.elapsed().as_secs_f64();
                match proof {
                    Ok(_) => result.outcome = "compiles+proof".to_string(),
                    Err(report) => {
                        result.outcome = "compiles, proof differs".to_string();
                        result.detail = report;
                    }
                }
            }
        }
    }
    println!("{RESULT}{}", result.to_json());
    Ok(ExitCode::SUCCESS)
}

/// The document's operations: every method of every path.
fn count_operations(raw: &Value) -> usize {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    raw.get("paths")
        .and_then(Value::as_object)
        .map(|paths| {
            paths
                .values()
                .map(|item| METHODS.iter().filter(|m| item.get(**m).is_some()).count())
                .sum()
        })
        .unwrap_or(0)
}

/// An API name for a document's file name (`progenitor-api.github.com.json` is
/// `progenitor-api-github-com`).
fn api_name(document: &str) -> String {
    let stem = document
        .rsplit_once('.')
        .map_or(document, |(stem, _)| stem)
        .to_ascii_lowercase();
    let mut name = String::new();
    for c in stem.chars() {
        match c {
            'a'..='z' | '0'..='9' => name.push(c),
            _ if !name.ends_with('-') && !name.is_empty() => name.push('-'),
            _ => {}
        }
    }
    let name = name.trim_end_matches('-').to_string();
    match name.chars().next() {
        Some(c) if c.is_ascii_lowercase() => name.chars().take(40).collect(),
        _ => format!("api-{}", name.chars().take(36).collect::<String>()),
    }
}

/// A workspace at `scratch` whose dependencies are this workspace's: the same versions (its
/// `Cargo.lock`), its runtime crates by path, and no APIs yet.
fn scratch_workspace(root: &Path, scratch: &Path, snapshot: Option<&Path>) -> anyhow::Result<()> {
    std::fs::create_dir_all(scratch.join("openapi"))?;
    std::fs::write(
        scratch.join("Cargo.toml"),
        workspace_manifest(root, &[], Some(snapshot.unwrap_or(root)))?,
    )?;
    std::fs::write(
        scratch.join(codegen::workspace::MANIFEST),
        "# The APIs of this scratch workspace.\n",
    )?;
    std::fs::copy(root.join("Cargo.lock"), scratch.join("Cargo.lock"))?;
    Ok(())
}

/// This workspace's `Cargo.toml` with other `members`, no API crates among its dependencies,
/// and (when `base` is given) its path dependencies made absolute, under `base` for the
/// snapshot's crates and under `root` for the rest.
fn workspace_manifest(
    root: &Path,
    members: &[String],
    base: Option<&Path>,
) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(root.join("Cargo.toml")).context("reading Cargo.toml")?;
    let mut document: toml_edit::DocumentMut = text.parse().context("parsing Cargo.toml")?;
    let workspace = document["workspace"]
        .as_table_mut()
        .context("Cargo.toml has no [workspace]")?;
    let mut list = toml_edit::Array::new();
    for member in members {
        list.push(member.as_str());
    }
    workspace.insert("members", toml_edit::value(list));
    workspace.remove("default-members");
    let apis = codegen::workspace::read_manifest(root)?.apis;
    let own: Vec<String> = apis
        .iter()
        .flat_map(|a| [a.types_dir(), a.api_dir(), a.client_dir()])
        .map(|d| codegen::workspace::ApiEntry::package(&d))
        .chain(["connect-server".to_string(), "codegen-golden".to_string()])
        .collect();
    if let Some(deps) = workspace
        .get_mut("dependencies")
        .and_then(|d| d.as_table_like_mut())
    {
        let names: Vec<String> = deps.iter().map(|(k, _)| k.to_string()).collect();
        for name in names {
            if own.contains(&name) {
                deps.remove(&name);
                continue;
            }
            let Some(base) = base else { continue };
            // Path dependencies point back into this workspace (or its snapshot).
            if let Some(path) = deps
                .get(&name)
                .and_then(|d| d.get("path"))
                .and_then(|p| p.as_str())
                .map(str::to_string)
            {
                let crate_name = Path::new(&path)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let from = if SNAPSHOT.contains(&crate_name.as_str()) {
                    base
                } else {
                    root
                };
                let absolute = from.join(path).display().to_string();
                if let Some(table) = deps.get_mut(&name).and_then(|d| d.as_inline_table_mut()) {
                    table.insert("path", absolute.into());
                }
            }
        }
    }
    Ok(document.to_string())
}

/// Runs cargo in the scratch workspace: `Ok` on success, `Err` with the first error otherwise.
fn cargo(scratch: &Path, target: &Path, args: &[&str]) -> anyhow::Result<Result<(), String>> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()))
        .args(args)
        .args(["--message-format", "short", "--quiet"])
        .current_dir(scratch)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .output()
        .context("running cargo")?;
    if output.status.success() {
        return Ok(Ok(()));
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    // A failed proof prints its report; a failed build its first error.
    if let Some(report) = stdout
        .lines()
        .chain(stderr.lines())
        .find(|l| l.contains("difference(s) between"))
    {
        let differences: Vec<&str> = stdout
            .lines()
            .chain(stderr.lines())
            .skip_while(|l| !l.contains("difference(s) between"))
            .skip(1)
            .take(3)
            .collect();
        return Ok(Err(format!(
            "{}: {}",
            report
                .trim()
                .trim_start_matches("thread 'the_served_api_is_the_spec' panicked at "),
            differences.join("; ")
        )));
    }
    let first = stderr
        .lines()
        .find(|l| l.contains("error[") || l.contains(": error") || l.starts_with("error"))
        .unwrap_or_else(|| stderr.lines().last().unwrap_or("cargo failed"));
    Ok(Err(first.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_names_make_api_names() {
        assert_eq!(
            api_name("progenitor-api.github.com.json"),
            "progenitor-api-github-com"
        );
        assert_eq!(api_name("oai30-petstore.yaml"), "oai30-petstore");
        assert_eq!(api_name("2fa.yaml"), "api-2fa");
        assert!(codegen::workspace::check_name(&api_name("Weird__Name!!.yml")).is_ok());
    }
}
