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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mode = match cli.command {
        Command::Generate => Mode::Overwrite,
        Command::Check => Mode::Verify,
    };
    match run(mode) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(mode: Mode) -> anyhow::Result<ExitCode> {
    let root = workspace_root();
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

fn settings() -> codegen::Settings {
    codegen::Settings {
        source_label: "openapi/connect.yaml".to_string(),
        trait_name: "ConnectApi".to_string(),
        types_crate: "::connect_types".to_string(),
        error_schema: "Error".to_string(),
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
}
