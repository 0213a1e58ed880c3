//! A workspace of APIs: the manifest that lists them (`openapi/apis.toml`), the files each one
//! generates, and adding or removing one.
//!
//! Every change to the tree is planned first ([`Plan`]) and applied at once; when applying
//! fails, what was written is undone. A spec the generator refuses never gets that far, so a
//! refused `new-api` changes nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{Settings, SpecError};

/// Where the manifest lives, relative to the workspace root.
pub const MANIFEST: &str = "openapi/apis.toml";

/// Everything that can go wrong with the workspace (the spec's own problems are
/// [`SpecError`]s).
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Manifest { path: PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WorkspaceError + '_ {
    move |source| WorkspaceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The APIs of a workspace.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default, rename = "api")]
    pub apis: Vec<ApiEntry>,
}

/// One API: its spec, its three crates and its settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ApiEntry {
    /// The API's name (`connect`): lower case, digits and `-`.
    pub name: String,
    /// The spec, relative to the root (`openapi/connect.yaml`).
    pub spec: String,
    /// The server trait's name; `<Name>Api` by default.
    #[serde(rename = "trait")]
    pub trait_name: Option<String>,
    /// The crates' directories; `crates/<name>-types`, `-api` and `-client` by default.
    pub types: Option<String>,
    pub api: Option<String>,
    pub client: Option<String>,
    /// The webhook receiver crate's directory, for a spec with `x-webhooks`;
    /// `crates/<name>-webhooks` by default.
    pub webhooks: Option<String>,
    /// Rust path of per-client state the client carries (see [`Settings::client_inner_type`]).
    pub client_state: Option<String>,
    /// Rust path of the client crate's convenience machinery (see
    /// [`Settings::client_conveniences`]).
    pub client_conveniences: Option<String>,
}

impl ApiEntry {
    pub fn types_dir(&self) -> String {
        self.types
            .clone()
            .unwrap_or_else(|| format!("crates/{}-types", self.name))
    }

    pub fn api_dir(&self) -> String {
        self.api
            .clone()
            .unwrap_or_else(|| format!("crates/{}-api", self.name))
    }

    pub fn client_dir(&self) -> String {
        self.client
            .clone()
            .unwrap_or_else(|| format!("crates/{}-client", self.name))
    }

    pub fn webhooks_dir(&self) -> String {
        self.webhooks
            .clone()
            .unwrap_or_else(|| format!("crates/{}-webhooks", self.name))
    }

    /// The directories of this API's crates: types, API and client, and the webhook receiver
    /// when `webhooks`.
    pub fn crate_dirs(&self, webhooks: bool) -> Vec<String> {
        let mut dirs = vec![self.types_dir(), self.api_dir(), self.client_dir()];
        if webhooks {
            dirs.push(self.webhooks_dir());
        }
        dirs
    }

    /// The package name of a crate in `dir` (its last path component).
    pub fn package(dir: &str) -> String {
        dir.rsplit('/').next().unwrap_or(dir).to_string()
    }

    pub fn trait_name(&self) -> String {
        self.trait_name
            .clone()
            .unwrap_or_else(|| format!("{}Api", crate::naming::pascal(&self.name)))
    }

    /// The generator's settings for this API.
    pub fn settings(&self) -> Settings {
        Settings {
            source_label: self.spec.clone(),
            trait_name: self.trait_name(),
            types_crate: format!("::{}", Self::package(&self.types_dir()).replace('-', "_")),
            client_inner_type: self.client_state.clone(),
            client_conveniences: self.client_conveniences.clone(),
        }
    }

    /// The generated files of this API, each with the contents the generator gives it.
    pub fn generate(&self, root: &Path) -> Result<Vec<(PathBuf, String)>, WorkspaceError> {
        let spec_path = Path::new(&self.spec);
        let text = std::fs::read_to_string(root.join(spec_path)).map_err(io(spec_path))?;
        // Messages name the spec by its path in the repository, as designers know it.
        let spec = crate::load_str(spec_path, &text)?;
        let output = crate::generate(&spec, &self.settings())?;
        let mut files = vec![
            (
                root.join(self.types_dir()).join("src/generated.rs"),
                output.types,
            ),
            (
                root.join(self.api_dir()).join("src/generated.rs"),
                output.api,
            ),
            (
                root.join(self.client_dir()).join("src/generated.rs"),
                output.client,
            ),
            (root.join(self.api_dir()).join("src/docs.html"), output.docs),
        ];
        if let Some(receiver) = output.webhooks {
            let dir = self.webhooks_dir();
            if !root.join(&dir).join("Cargo.toml").is_file() {
                return Err(WorkspaceError::Manifest {
                    path: PathBuf::from(MANIFEST),
                    message: format!(
                        "{} describes webhooks (`x-webhooks`), whose receiver is generated into \
                         the crate at {dir}, but there is no crate there: create it (as \
                         crates/connect-webhooks is made) or set `webhooks` for the API `{}`",
                        self.spec, self.name
                    ),
                });
            }
            files.push((root.join(dir).join("src/generated.rs"), receiver));
        }
        Ok(files)
    }

    /// The client crate is published with the API's version: its `Cargo.toml` `version` must
    /// be [`client_version`] of the spec's `info.version`.
    pub fn check_client_version(&self, root: &Path) -> Result<(), WorkspaceError> {
        let spec_path = Path::new(&self.spec);
        let text = std::fs::read_to_string(root.join(spec_path)).map_err(io(spec_path))?;
        let spec = crate::load_str(spec_path, &text)?;
        let expected = client_version(&spec.doc.info.version);
        let manifest_path = PathBuf::from(self.client_dir()).join("Cargo.toml");
        let manifest =
            std::fs::read_to_string(root.join(&manifest_path)).map_err(io(&manifest_path))?;
        let document: toml_edit::DocumentMut =
            manifest.parse().map_err(|error| WorkspaceError::Manifest {
                path: manifest_path.clone(),
                message: format!("not TOML: {error}"),
            })?;
        let version = document
            .get("package")
            .and_then(|p| p.get("version"))
            .and_then(|v| v.as_str())
            .ok_or_else(|| WorkspaceError::Manifest {
                path: manifest_path.clone(),
                message: "has no literal `version = \"...\"` in [package]".to_string(),
            })?;
        if version != expected {
            return Err(WorkspaceError::Manifest {
                path: manifest_path,
                message: format!(
                    "has version {version} but {} has info.version {} (as a crate version, \
                     {expected}): the client is published with the API's version, so make them equal",
                    self.spec, spec.doc.info.version
                ),
            });
        }
        Ok(())
    }
}

/// The crate version a client of an API with `info.version` gets: the version itself when it
/// is semver, `1.2` as `1.2.0` and `v2` as `2.0.0`, and `0.0.0` for anything else (a date,
/// say).
pub fn client_version(info_version: &str) -> String {
    let text = info_version.trim().trim_start_matches(['v', 'V']);
    if is_semver(text) {
        return text.to_string();
    }
    let parts: Vec<&str> = text.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if (1..=2).contains(&parts.len()) && parts.iter().all(numeric) {
        let mut parts: Vec<String> = parts
            .iter()
            .map(|p| p.trim_start_matches('0').to_string())
            .map(|p| if p.is_empty() { "0".to_string() } else { p })
            .collect();
        while parts.len() < 3 {
            parts.push("0".to_string());
        }
        return parts.join(".");
    }
    "0.0.0".to_string()
}

/// `MAJOR.MINOR.PATCH` with optional `-pre` and `+build`, numbers without leading zeros.
fn is_semver(text: &str) -> bool {
    let core = text.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    let rest = &text[core.len()..];
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
}

/// Reads the manifest of the workspace at `root`.
pub fn read_manifest(root: &Path) -> Result<Manifest, WorkspaceError> {
    let path = Path::new(MANIFEST);
    let text = std::fs::read_to_string(root.join(path)).map_err(io(path))?;
    let manifest: Manifest =
        toml_edit::de::from_str(&text).map_err(|error| WorkspaceError::Manifest {
            path: path.to_path_buf(),
            message: error.to_string().trim_end().to_string(),
        })?;
    let mut names = BTreeMap::new();
    for entry in &manifest.apis {
        if let Err(why) = check_name(&entry.name) {
            return Err(WorkspaceError::Manifest {
                path: path.to_path_buf(),
                message: format!("API `{}`: {why}", entry.name),
            });
        }
        if names.insert(entry.name.clone(), ()).is_some() {
            return Err(WorkspaceError::Manifest {
                path: path.to_path_buf(),
                message: format!("API `{}` is listed twice", entry.name),
            });
        }
    }
    Ok(manifest)
}

/// Why `name` cannot name an API, if it cannot: it makes crate names and a file name.
pub fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--");
    match ok {
        true if name.len() <= 48 => Ok(()),
        true => Err("is longer than 48 characters".to_string()),
        false => Err(
            "must start with a lower-case letter and hold only lower-case letters, digits and \
             single `-`s (it names crates: `<name>-types`, `<name>-api`, `<name>-client`)"
                .to_string(),
        ),
    }
}

/// Changes to make to a workspace, all at once.
#[derive(Debug, Default)]
pub struct Plan {
    /// Files to create or replace, with their contents.
    pub writes: Vec<(PathBuf, String)>,
    /// Files and directories to remove.
    pub removals: Vec<PathBuf>,
}

impl Plan {
    /// Applies the plan under `root`; on failure, restores what it had changed.
    pub fn apply(&self, root: &Path) -> Result<(), WorkspaceError> {
        let mut undo: Vec<Undo> = Vec::new();
        let result = self.apply_recording(root, &mut undo);
        if result.is_err() {
            for step in undo.into_iter().rev() {
                step.run();
            }
        }
        result
    }

    fn apply_recording(&self, root: &Path, undo: &mut Vec<Undo>) -> Result<(), WorkspaceError> {
        for (path, contents) in &self.writes {
            let full = root.join(path);
            if let Some(parent) = full.parent() {
                let mut missing = Vec::new();
                let mut dir = parent;
                while !dir.exists() {
                    missing.push(dir.to_path_buf());
                    match dir.parent() {
                        Some(up) => dir = up,
                        None => break,
                    }
                }
                std::fs::create_dir_all(parent).map_err(io(path))?;
                for dir in missing {
                    undo.push(Undo::RemoveDir(dir));
                }
            }
            match std::fs::read(&full) {
                Ok(old) => undo.push(Undo::Restore(full.clone(), old)),
                Err(_) => undo.push(Undo::RemoveFile(full.clone())),
            }
            std::fs::write(&full, contents).map_err(io(path))?;
        }
        for path in &self.removals {
            let full = root.join(path);
            if full.is_dir() {
                // Moved aside first, so that a failure can put it back.
                let aside = full.with_extension("removing");
                std::fs::rename(&full, &aside).map_err(io(path))?;
                undo.push(Undo::Rename(aside.clone(), full.clone()));
                std::fs::remove_dir_all(&aside).map_err(io(path))?;
                undo.pop();
            } else if full.exists() {
                let old = std::fs::read(&full).map_err(io(path))?;
                std::fs::remove_file(&full).map_err(io(path))?;
                undo.push(Undo::Restore(full, old));
            }
        }
        Ok(())
    }
}

enum Undo {
    Restore(PathBuf, Vec<u8>),
    RemoveFile(PathBuf),
    RemoveDir(PathBuf),
    Rename(PathBuf, PathBuf),
}

impl Undo {
    fn run(self) {
        // Best effort: undoing runs only after something already failed.
        let _ = match self {
            Self::Restore(path, bytes) => std::fs::write(path, bytes),
            Self::RemoveFile(path) => std::fs::remove_file(path),
            Self::RemoveDir(path) => std::fs::remove_dir_all(path),
            Self::Rename(from, to) => std::fs::rename(from, to),
        };
    }
}

/// What `new-api` is asked for.
#[derive(Clone, Debug)]
pub struct NewApi {
    pub name: String,
    /// The document to copy into `openapi/`.
    pub spec: PathBuf,
}

/// Plans adding an API: the spec copied to `openapi/<name>.<ext>`, its entry in the manifest,
/// three crates with hand-written `Cargo.toml` and `lib.rs` (the generator owns only their
/// `src/generated.rs`), the round-trip proof, the workspace's members and dependencies, and
/// the generated files. Fails, planning nothing, when the spec is refused.
pub fn plan_new_api(root: &Path, request: &NewApi) -> Result<Plan, WorkspaceError> {
    let name = &request.name;
    check_name(name).map_err(|why| WorkspaceError::Usage(format!("API name `{name}` {why}")))?;
    let manifest = read_manifest(root)?;
    if manifest.apis.iter().any(|api| api.name == *name) {
        return Err(WorkspaceError::Usage(format!(
            "the workspace already has an API `{name}` (see {MANIFEST})"
        )));
    }
    let text = std::fs::read_to_string(&request.spec).map_err(io(&request.spec))?;
    let format = crate::Format::of(&request.spec, &text);
    let extension = match format {
        crate::Format::Json => "json",
        crate::Format::Yaml => request
            .spec
            .extension()
            .and_then(|e| e.to_str())
            .filter(|e| e.eq_ignore_ascii_case("yml"))
            .unwrap_or("yaml"),
    };
    let spec_file = format!("openapi/{name}.{extension}");
    let entry = ApiEntry {
        name: name.clone(),
        spec: spec_file.clone(),
        trait_name: None,
        types: None,
        api: None,
        client: None,
        webhooks: None,
        client_state: None,
        client_conveniences: None,
    };
    if root.join(&spec_file).exists() {
        return Err(WorkspaceError::Usage(format!("{spec_file} already exists")));
    }
    // Generated first: a refused spec plans nothing, and its messages name the document as
    // given (the copy does not exist). The copy's name labels what is generated.
    let spec = crate::load_str(&request.spec, &text)?;
    let mut settings = entry.settings();
    settings.source_label = spec_file.clone();
    let output = crate::generate(&spec, &settings)?;
    let receiver = output.webhooks.as_ref().map(|_| Receiver {
        signed: spec
            .raw
            .pointer("/x-conventions/webhook-signature")
            .is_some(),
    });
    for dir in entry.crate_dirs(receiver.is_some()) {
        if root.join(&dir).exists() {
            return Err(WorkspaceError::Usage(format!("{dir} already exists")));
        }
    }
    let title = spec.doc.info.title.clone();
    let version = client_version(&spec.doc.info.version);
    // progenitor's websocket methods send a random key.
    let websockets = spec
        .raw
        .get("paths")
        .and_then(serde_json::Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(serde_json::Value::as_object)
        .flat_map(|item| item.values())
        .any(|op| op.get("x-dropshot-websocket").is_some());

    let mut plan = Plan::default();
    plan.writes.push((PathBuf::from(&spec_file), text));
    plan.writes
        .push((PathBuf::from(MANIFEST), add_to_manifest(root, &entry)?));
    plan.writes.push((
        PathBuf::from("Cargo.toml"),
        add_to_workspace(root, &entry, receiver.is_some())?,
    ));
    for (dir, files) in templates::crates(&entry, &title, &version, websockets, receiver) {
        for (file, contents) in files {
            plan.writes.push((PathBuf::from(&dir).join(file), contents));
        }
    }
    for (dir, generated) in [
        (entry.types_dir(), output.types),
        (entry.api_dir(), output.api),
        (entry.client_dir(), output.client),
    ] {
        plan.writes
            .push((PathBuf::from(dir).join("src/generated.rs"), generated));
    }
    plan.writes.push((
        PathBuf::from(entry.api_dir()).join("src/docs.html"),
        output.docs,
    ));
    if let Some(generated) = output.webhooks {
        plan.writes.push((
            PathBuf::from(entry.webhooks_dir()).join("src/generated.rs"),
            generated,
        ));
    }
    Ok(plan)
}

/// What the receiver crate of a new API with webhooks needs.
#[derive(Clone, Copy, Debug)]
struct Receiver {
    /// Deliveries are signed (`x-conventions.webhook-signature`): the verifier's crates.
    signed: bool,
}

/// Plans removing an API: its crates, its spec, its manifest entry and its place in the
/// workspace. Refuses while another crate depends on one of its crates.
pub fn plan_remove_api(root: &Path, name: &str) -> Result<Plan, WorkspaceError> {
    let manifest = read_manifest(root)?;
    let Some(entry) = manifest.apis.iter().find(|api| api.name == name) else {
        return Err(WorkspaceError::Usage(format!(
            "the workspace has no API `{name}` (see {MANIFEST})"
        )));
    };
    let webhooks = root.join(entry.webhooks_dir()).join("Cargo.toml").is_file();
    let own = entry.crate_dirs(webhooks);
    let packages: Vec<String> = own.iter().map(|d| ApiEntry::package(d)).collect();
    // Any other member that depends on these crates would no longer build.
    let workspace = read_toml(root, Path::new("Cargo.toml"))?;
    let members: Vec<String> = workspace
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .map(|m| {
            m.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for member in members.iter().filter(|m| !own.contains(m)) {
        let path = PathBuf::from(member).join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(root.join(&path)) else {
            continue;
        };
        let Ok(document) = text.parse::<toml_edit::DocumentMut>() else {
            continue;
        };
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            let deps = document.get(section).and_then(|d| d.as_table_like());
            for package in &packages {
                if deps.is_some_and(|d| d.contains_key(package)) {
                    return Err(WorkspaceError::Usage(format!(
                        "{member} depends on {package} ({section} of {}): remove that first",
                        path.display()
                    )));
                }
            }
        }
    }
    let mut plan = Plan::default();
    plan.writes
        .push((PathBuf::from(MANIFEST), remove_from_manifest(root, name)?));
    plan.writes.push((
        PathBuf::from("Cargo.toml"),
        remove_from_workspace(root, &own)?,
    ));
    // Cargo would drop the crates from the lock file on its next run; done here, the tree is
    // as it was before `new-api`.
    if root.join("Cargo.lock").exists() {
        let mut lock = read_toml(root, Path::new("Cargo.lock"))?;
        if let Some(entries) = lock
            .get_mut("package")
            .and_then(|p| p.as_array_of_tables_mut())
        {
            entries.retain(|table| {
                !table
                    .get("name")
                    .and_then(|n| n.as_str())
                    .is_some_and(|n| packages.iter().any(|p| p == n))
            });
        }
        plan.writes
            .push((PathBuf::from("Cargo.lock"), lock.to_string()));
    }
    plan.removals.push(PathBuf::from(&entry.spec));
    for dir in own {
        plan.removals.push(PathBuf::from(dir));
    }
    Ok(plan)
}

fn read_toml(root: &Path, path: &Path) -> Result<toml_edit::DocumentMut, WorkspaceError> {
    let text = std::fs::read_to_string(root.join(path)).map_err(io(path))?;
    text.parse().map_err(|error| WorkspaceError::Manifest {
        path: path.to_path_buf(),
        message: format!("not TOML: {error}"),
    })
}

fn add_to_manifest(root: &Path, entry: &ApiEntry) -> Result<String, WorkspaceError> {
    let path = Path::new(MANIFEST);
    let text = std::fs::read_to_string(root.join(path)).map_err(io(path))?;
    let mut out = text.trim_end().to_string();
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str(&format!(
        "[[api]]\nname = \"{}\"\nspec = \"{}\"\n",
        entry.name, entry.spec
    ));
    Ok(out)
}

/// The manifest without the `[[api]]` table of `name`: its lines from its header to the next
/// table's header, less the comments and blank lines just above that header (they belong to
/// it). The rest of the text, comments included, stays as it is.
fn remove_from_manifest(root: &Path, name: &str) -> Result<String, WorkspaceError> {
    let path = Path::new(MANIFEST);
    let text = std::fs::read_to_string(root.join(path)).map_err(io(path))?;
    let lines: Vec<&str> = text.lines().collect();
    let headers: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with('['))
        .map(|(i, _)| i)
        .collect();
    let names_it = |start: usize, end: usize| {
        lines[start..end].iter().any(|l| {
            l.split_once('=').is_some_and(|(key, value)| {
                key.trim() == "name" && value.trim().trim_matches('"') == name
            })
        })
    };
    let mut out: Vec<&str> = lines.clone();
    for (index, &start) in headers.iter().enumerate() {
        let next = headers.get(index + 1).copied().unwrap_or(lines.len());
        if lines[start].trim() != "[[api]]" || !names_it(start, next) {
            continue;
        }
        let mut end = next;
        while end > start + 1 && {
            let line = lines[end - 1].trim();
            next < lines.len() && (line.is_empty() || line.starts_with('#'))
        } {
            end -= 1;
        }
        let mut begin = start;
        while begin > 0 && lines[begin - 1].trim().is_empty() {
            begin -= 1;
        }
        out = lines[..begin]
            .iter()
            .chain(&lines[end..])
            .copied()
            .collect();
        break;
    }
    let mut joined = out.join("\n");
    if !joined.is_empty() {
        joined.push('\n');
    }
    Ok(joined)
}

fn add_to_workspace(
    root: &Path,
    entry: &ApiEntry,
    webhooks: bool,
) -> Result<String, WorkspaceError> {
    let path = Path::new("Cargo.toml");
    let mut document = read_toml(root, path)?;
    let dirs = entry.crate_dirs(webhooks);
    let workspace = document
        .get_mut("workspace")
        .and_then(|w| w.as_table_like_mut())
        .ok_or_else(|| WorkspaceError::Manifest {
            path: path.to_path_buf(),
            message: "has no [workspace]".to_string(),
        })?;
    let members = workspace
        .get_mut("members")
        .and_then(|m| m.as_array_mut())
        .ok_or_else(|| WorkspaceError::Manifest {
            path: path.to_path_buf(),
            message: "has no `workspace.members` list".to_string(),
        })?;
    for dir in &dirs {
        if !members.iter().any(|m| m.as_str() == Some(dir)) {
            members.push(dir.as_str());
        }
    }
    // One member per line, as people write them.
    for member in members.iter_mut() {
        member.decor_mut().set_prefix("\n    ");
    }
    members.set_trailing("\n");
    members.set_trailing_comma(true);
    let dependencies = workspace
        .get_mut("dependencies")
        .and_then(|d| d.as_table_like_mut())
        .ok_or_else(|| WorkspaceError::Manifest {
            path: path.to_path_buf(),
            message: "has no [workspace.dependencies]".to_string(),
        })?;
    for dir in &dirs {
        let mut table = toml_edit::InlineTable::new();
        table.insert("path", dir.as_str().into());
        dependencies.insert(
            &ApiEntry::package(dir),
            toml_edit::Item::Value(toml_edit::Value::InlineTable(table)),
        );
    }
    Ok(document.to_string())
}

fn remove_from_workspace(root: &Path, dirs: &[String]) -> Result<String, WorkspaceError> {
    let path = Path::new("Cargo.toml");
    let mut document = read_toml(root, path)?;
    if let Some(workspace) = document
        .get_mut("workspace")
        .and_then(|w| w.as_table_like_mut())
    {
        if let Some(members) = workspace.get_mut("members").and_then(|m| m.as_array_mut()) {
            members.retain(|m| !m.as_str().is_some_and(|m| dirs.iter().any(|d| d == m)));
        }
        if let Some(deps) = workspace
            .get_mut("dependencies")
            .and_then(|d| d.as_table_like_mut())
        {
            for dir in dirs {
                deps.remove(&ApiEntry::package(dir));
            }
        }
    }
    Ok(document.to_string())
}

/// The hand-written files of a new API's crates.
mod templates {
    use super::{ApiEntry, Receiver};

    /// `(crate directory, [(file, contents)])` for the types, API and client crates, and the
    /// webhook receiver's crate when there is a `receiver`.
    pub fn crates(
        entry: &ApiEntry,
        title: &str,
        version: &str,
        websockets: bool,
        receiver: Option<Receiver>,
    ) -> Vec<(String, Vec<(&'static str, String)>)> {
        let name = &entry.name;
        let spec = &entry.spec;
        let types = ApiEntry::package(&entry.types_dir());
        let api = ApiEntry::package(&entry.api_dir());
        let client = ApiEntry::package(&entry.client_dir());
        let trait_name = entry.trait_name();
        let module = format!("{}_mod", crate::naming::snake(&trait_name));
        let api_ident = api.replace('-', "_");
        let title = title.replace('"', "'");
        let websocket_deps = match websockets {
            true => "base64.workspace = true\nrand.workspace = true\n",
            false => "",
        };
        let generated = "#[rustfmt::skip]\n#[allow(clippy::all, clippy::pedantic, unused, non_camel_case_types, non_snake_case, deprecated)]\nmod generated;\n\npub use generated::*;\n";
        let mut crates = vec![
            (
                entry.types_dir(),
                vec![
                    (
                        "Cargo.toml",
                        format!(
                            r#"[package]
name = "{types}"
description = "The schema types of the {title}, generated from {spec}"
version = "0.1.0"
edition.workspace = true
rust-version.workspace = true
license.workspace = true
publish = false

[dependencies]
spec-schema.workspace = true
serde.workspace = true
serde_json.workspace = true
schemars.workspace = true
chrono.workspace = true
uuid.workspace = true
regress.workspace = true
"#
                        ),
                    ),
                    (
                        "src/lib.rs",
                        format!(
                            "//! The schema types of the {title}, generated from `{spec}` by\n//! `cargo xtask generate`: serde and `schemars::JsonSchema`, each request body type\n//! validated by the spec's own schema. No dropshot, no reqwest.\n\n{generated}"
                        ),
                    ),
                ],
            ),
            (
                entry.api_dir(),
                vec![
                    (
                        "Cargo.toml",
                        format!(
                            r#"[package]
name = "{api}"
description = "The {title} as a dropshot API trait, generated from {spec}"
version = "0.1.0"
edition.workspace = true
rust-version.workspace = true
license.workspace = true
publish = false

[dependencies]
{types}.workspace = true
spec-runtime.workspace = true
dropshot.workspace = true
schemars.workspace = true
serde.workspace = true
http.workspace = true
async-trait.workspace = true
chrono.workspace = true
uuid.workspace = true

[dev-dependencies]
codegen.workspace = true
semver.workspace = true
"#
                        ),
                    ),
                    (
                        "src/lib.rs",
                        format!(
                            "//! The {title} as a dropshot API trait, generated from `{spec}` by\n//! `cargo xtask generate`.\n//!\n//! [`{trait_name}`] has one method per operation; implement it and serve\n//! `{module}::api_description::<YourImpl>()`. This crate must not depend on a server or\n//! on the client.\n\n{generated}\n/// The API reference as one self-contained HTML page (no script, nothing fetched), generated\n/// from the spec beside the trait: serve it as `text/html`.\npub const DOCS_HTML: &str = include_str!(\"docs.html\");\n"
                        ),
                    ),
                    (
                        "tests/roundtrip.rs",
                        format!(
                            r#"//! The round-trip proof: the OpenAPI document dropshot derives from the generated trait is
//! the spec (see `codegen::roundtrip` for what is compared).

#[test]
fn the_served_api_is_the_spec() {{
    let description = {api_ident}::{module}::stub_api_description()
        .expect("the trait registers with dropshot");
    let derived = description
        .openapi("{name}", semver::Version::new(0, 0, 0))
        .json()
        .expect("dropshot renders its document");
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../{spec}");
    if let Err(report) = codegen::roundtrip::prove(&spec, &derived) {{
        panic!("{{report}}");
    }}
}}
"#
                        ),
                    ),
                ],
            ),
            (
                entry.client_dir(),
                vec![
                    (
                        "Cargo.toml",
                        format!(
                            r#"[package]
name = "{client}"
description = "Rust client for the {title}, generated from its OpenAPI document"
# The API's version (`info.version` of {spec}); `cargo xtask check` enforces it.
version = "{version}"
edition.workspace = true
rust-version.workspace = true
license.workspace = true

# No workspace crate here: consumers pull this crate as it is.
[dependencies]
progenitor-client.workspace = true
reqwest.workspace = true
serde.workspace = true
serde_json.workspace = true
chrono.workspace = true
uuid.workspace = true
regress.workspace = true
futures.workspace = true
{websocket_deps}"#
                        ),
                    ),
                    (
                        "src/lib.rs",
                        format!(
                            "//! Rust client for the {title}, generated by progenitor from `{spec}`: one method per\n//! operation, named after its `operationId`, each returning a request builder whose\n//! `send()` performs it; the schema types are in [`types`].\n//!\n//! This crate depends on no other crate of its workspace: consumers pull it as it is.\n\n{generated}"
                        ),
                    ),
                ],
            ),
        ];
        if let Some(receiver) = receiver {
            let webhooks = ApiEntry::package(&entry.webhooks_dir());
            let webhooks_ident = webhooks.replace('-', "_");
            let receiver_trait = crate::webhooks::trait_name(&entry.settings());
            let receiver_module = format!("{}_mod", crate::naming::snake(&receiver_trait));
            let signed_deps = match receiver.signed {
                true => "async-trait.workspace = true\naws-lc-rs.workspace = true\n",
                false => "",
            };
            // The API crate's round-trip test proves the receiver too.
            let (_, api_files) = &mut crates[1];
            fn file<'f>(files: &'f mut [(&'static str, String)], name: &str) -> &'f mut String {
                files
                    .iter_mut()
                    .find(|(file, _)| *file == name)
                    .map(|(_, contents)| contents)
                    .expect("the API crate's template has the file")
            }
            // Its dev-dependencies are the manifest's last table.
            file(api_files, "Cargo.toml").push_str(&format!("{webhooks}.workspace = true\n"));
            file(api_files, "tests/roundtrip.rs").push_str(&format!(
                r#"
/// The webhook receiver ({webhooks}) is the spec's `x-webhooks`.
#[test]
fn the_webhook_receiver_is_the_spec() {{
    let description = {webhooks_ident}::{receiver_module}::stub_api_description()
        .expect("the receiver registers with dropshot");
    let derived = description
        .openapi("{name} webhooks", semver::Version::new(0, 0, 0))
        .json()
        .expect("dropshot renders its document");
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../{spec}");
    if let Err(report) = codegen::roundtrip::prove_webhooks(&spec, &derived) {{
        panic!("{{report}}");
    }}
}}
"#
            ));
            crates.push((
                entry.webhooks_dir(),
                vec![
                    (
                        "Cargo.toml",
                        format!(
                            r#"[package]
name = "{webhooks}"
description = "Receive the webhooks of the {title}: event types and a dropshot receiver trait, generated from its OpenAPI document"
# The API's version (`info.version` of {spec}), as the client's.
version = "{version}"
edition.workspace = true
rust-version.workspace = true
license.workspace = true

# No workspace crate here: consumers pull this crate as it is.
[dependencies]
dropshot.workspace = true
schemars.workspace = true
serde.workspace = true
serde_json.workspace = true
chrono.workspace = true
uuid.workspace = true
regress.workspace = true
http.workspace = true
{signed_deps}"#
                        ),
                    ),
                    (
                        "src/lib.rs",
                        format!(
                            "//! Receive the webhooks of the {title}, generated from the `x-webhooks` of `{spec}`:\n//! the events in [`types`], and [`{receiver_trait}`], a dropshot API trait with one endpoint\n//! per webhook at `POST /<name>`; implement it and serve\n//! `{receiver_module}::api_description::<YourImpl>()`.\n//!\n//! This crate depends on no other crate of its workspace: consumers pull it as it is.\n\n{generated}"
                        ),
                    ),
                ],
            ));
        }
        crates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workspace in a temporary directory: a root manifest, an empty API manifest.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let root = std::env::temp_dir()
                .join(format!("codegen-workspace-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(root.join("openapi")).unwrap();
            std::fs::write(
                root.join("Cargo.toml"),
                "[workspace]\nresolver = \"3\"\nmembers = [\n    \"xtask\",\n]\n\n[workspace.dependencies]\nserde = \"1\"\n",
            )
            .unwrap();
            std::fs::write(root.join(MANIFEST), "# The APIs.\n").unwrap();
            std::fs::write(
                root.join("Cargo.lock"),
                "version = 4\n\n[[package]]\nname = \"xtask\"\nversion = \"0.1.0\"\n",
            )
            .unwrap();
            Self(root)
        }

        /// Every file under the root with its contents, for comparing trees.
        fn files(&self) -> BTreeMap<String, String> {
            fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
                for entry in std::fs::read_dir(dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        walk(&path, root, out);
                    } else {
                        let key = path.strip_prefix(root).unwrap().display().to_string();
                        out.insert(key, std::fs::read_to_string(&path).unwrap());
                    }
                }
            }
            let mut out = BTreeMap::new();
            walk(&self.0, &self.0, &mut out);
            out
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const SPEC: &str = "openapi: 3.0.3
info: {title: Pets, version: '2.1'}
paths:
  /pets/{petId}:
    get:
      parameters:
        - {name: petId, in: path, required: true, schema: {type: integer}}
      responses:
        '200':
          description: A pet.
          content:
            application/json:
              schema: {type: object, properties: {name: {type: string}}}
";

    #[test]
    fn new_api_adds_everything_and_remove_api_restores_the_tree() {
        let scratch = Scratch::new("add");
        let before = scratch.files();
        let spec = scratch.0.join("pets.yml");
        std::fs::write(&spec, SPEC).unwrap();
        let request = NewApi {
            name: "pets".to_string(),
            spec: spec.clone(),
        };
        plan_new_api(&scratch.0, &request)
            .unwrap()
            .apply(&scratch.0)
            .unwrap();
        let after = scratch.files();
        for file in [
            "openapi/pets.yml",
            "crates/pets-types/Cargo.toml",
            "crates/pets-types/src/lib.rs",
            "crates/pets-types/src/generated.rs",
            "crates/pets-api/Cargo.toml",
            "crates/pets-api/src/generated.rs",
            "crates/pets-api/src/docs.html",
            "crates/pets-api/tests/roundtrip.rs",
            "crates/pets-client/Cargo.toml",
            "crates/pets-client/src/generated.rs",
        ] {
            assert!(after.contains_key(file), "{file}: {:?}", after.keys());
        }
        assert!(
            after["openapi/apis.toml"].contains("name = \"pets\"\nspec = \"openapi/pets.yml\"")
        );
        assert!(after["Cargo.toml"].contains("\"crates/pets-api\""));
        assert!(after["Cargo.toml"].contains("pets-client = { path = \"crates/pets-client\" }"));
        // The client has the API's version, as a crate version.
        assert!(after["crates/pets-client/Cargo.toml"].contains("version = \"2.1.0\""));
        let entry = &read_manifest(&scratch.0).unwrap().apis[0];
        entry.check_client_version(&scratch.0).unwrap();
        // The generated files are what `generate` makes.
        for (path, contents) in entry.generate(&scratch.0).unwrap() {
            assert_eq!(
                std::fs::read_to_string(&path).unwrap(),
                contents,
                "{}",
                path.display()
            );
        }
        // A second API of the name is refused, and so is removing one that is not there.
        assert!(plan_new_api(&scratch.0, &request).is_err());
        assert!(plan_remove_api(&scratch.0, "cats").is_err());

        std::fs::remove_file(&spec).unwrap();
        plan_remove_api(&scratch.0, "pets")
            .unwrap()
            .apply(&scratch.0)
            .unwrap();
        assert_eq!(scratch.files(), before);
    }

    /// A spec with webhooks gets its receiver crate too, proved by the API crate's round-trip
    /// test; removing the API removes it.
    #[test]
    fn an_api_with_webhooks_gets_its_receiver_crate() {
        let scratch = Scratch::new("webhooks");
        let before = scratch.files();
        let spec = scratch.0.join("pets.yaml");
        let with_webhooks = format!(
            "{SPEC}x-webhooks:\n  pet.adopted:\n    post:\n      operationId: petAdopted\n      requestBody:\n        content:\n          application/json:\n            schema: {{type: object, properties: {{petId: {{type: integer}}}}}}\n      responses:\n        '204': {{description: Acknowledged.}}\n"
        );
        std::fs::write(&spec, with_webhooks).unwrap();
        let request = NewApi {
            name: "pets".to_string(),
            spec: spec.clone(),
        };
        plan_new_api(&scratch.0, &request)
            .unwrap()
            .apply(&scratch.0)
            .unwrap();
        let after = scratch.files();
        for file in [
            "crates/pets-webhooks/Cargo.toml",
            "crates/pets-webhooks/src/lib.rs",
            "crates/pets-webhooks/src/generated.rs",
        ] {
            assert!(after.contains_key(file), "{file}: {:?}", after.keys());
        }
        assert!(after["Cargo.toml"].contains("\"crates/pets-webhooks\""));
        assert!(after["crates/pets-webhooks/Cargo.toml"].contains("version = \"2.1.0\""));
        // Unsigned deliveries: no verifier, so none of its crates.
        assert!(!after["crates/pets-webhooks/Cargo.toml"].contains("aws-lc-rs"));
        assert!(after["crates/pets-webhooks/src/generated.rs"].contains("pub trait PetsWebhooks"));
        assert!(after["crates/pets-api/Cargo.toml"].contains("pets-webhooks.workspace = true"));
        assert!(after["crates/pets-api/tests/roundtrip.rs"].contains("prove_webhooks"));
        let entry = &read_manifest(&scratch.0).unwrap().apis[0];
        for (path, contents) in entry.generate(&scratch.0).unwrap() {
            assert_eq!(std::fs::read_to_string(&path).unwrap(), contents);
        }
        std::fs::remove_file(&spec).unwrap();
        plan_remove_api(&scratch.0, "pets")
            .unwrap()
            .apply(&scratch.0)
            .unwrap();
        assert_eq!(scratch.files(), before);
    }

    #[test]
    fn a_refused_spec_changes_nothing_and_names_the_document_given() {
        let scratch = Scratch::new("refused");
        let before = scratch.files();
        let spec = scratch.0.join("bad.yaml");
        std::fs::write(
            &spec,
            SPEC.replace("type: integer", "type: integer, default: many"),
        )
        .unwrap();
        let request = NewApi {
            name: "bad".to_string(),
            spec: spec.clone(),
        };
        let error = plan_new_api(&scratch.0, &request).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!("{}:7:", spec.display())),
            "{error}"
        );
        std::fs::remove_file(&spec).unwrap();
        assert_eq!(scratch.files(), before);
    }

    #[test]
    fn a_plan_that_fails_halfway_undoes_what_it_wrote() {
        let scratch = Scratch::new("undo");
        let before = scratch.files();
        let plan = Plan {
            writes: vec![
                (PathBuf::from("openapi/apis.toml"), "changed".to_string()),
                (
                    PathBuf::from("crates/new/src/lib.rs"),
                    "//! new".to_string(),
                ),
                // A directory where a file should go: the write fails.
                (PathBuf::from("openapi"), "oops".to_string()),
            ],
            removals: Vec::new(),
        };
        assert!(plan.apply(&scratch.0).is_err());
        assert_eq!(scratch.files(), before);
        assert!(!scratch.0.join("crates").exists());
    }

    #[test]
    fn client_versions_follow_info_version() {
        assert_eq!(client_version("1.0.0"), "1.0.0");
        assert_eq!(client_version("1.2.3-beta.1"), "1.2.3-beta.1");
        assert_eq!(client_version("v2"), "2.0.0");
        assert_eq!(client_version("1.0"), "1.0.0");
        assert_eq!(client_version("2021-01-01"), "0.0.0");
        assert_eq!(client_version("01.2.3"), "0.0.0");
    }

    #[test]
    fn api_names_make_crate_names() {
        assert!(check_name("petstore").is_ok());
        assert!(check_name("partner-v2").is_ok());
        for bad in ["", "Pet", "2pets", "pet_store", "pet-", "a--b", "pet store"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
