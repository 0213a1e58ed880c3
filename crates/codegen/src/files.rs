//! Writing generated files, or checking that they are fresh: one function for both.

use std::path::Path;

/// Whether to write files or only compare them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Write files whose contents differ.
    Overwrite,
    /// Write nothing; report stale files.
    Verify,
}

/// What happened to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Already had these contents.
    Unchanged,
    /// Written (only in [`Mode::Overwrite`]).
    Written,
    /// Differs from what the generator produces (only in [`Mode::Verify`]): a unified diff.
    Stale(String),
}

/// Makes `path` hold `contents` ([`Mode::Overwrite`]), or reports whether it does
/// ([`Mode::Verify`]). A missing file counts as empty.
pub fn ensure_file_contents(path: &Path, contents: &str, mode: Mode) -> std::io::Result<Outcome> {
    let current = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(error),
    };
    if current == contents {
        return Ok(Outcome::Unchanged);
    }
    match mode {
        Mode::Overwrite => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, contents)?;
            Ok(Outcome::Written)
        }
        Mode::Verify => {
            let label = path.display().to_string();
            let diff = similar::TextDiff::from_lines(current.as_str(), contents)
                .unified_diff()
                .context_radius(3)
                .header(
                    &format!("{label} (on disk)"),
                    &format!("{label} (generated)"),
                )
                .to_string();
            Ok(Outcome::Stale(diff))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_reports_a_diff_and_writes_nothing_then_overwrite_writes() {
        let dir = std::env::temp_dir().join(format!("codegen-files-{}", std::process::id()));
        let path = dir.join("generated.rs");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, "a\nb\n").unwrap();

        let Outcome::Stale(diff) = ensure_file_contents(&path, "a\nc\n", Mode::Verify).unwrap()
        else {
            panic!("expected a stale file");
        };
        assert!(diff.contains("-b\n") && diff.contains("+c\n"), "{diff}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\nb\n");

        assert_eq!(
            ensure_file_contents(&path, "a\nc\n", Mode::Overwrite).unwrap(),
            Outcome::Written
        );
        assert_eq!(
            ensure_file_contents(&path, "a\nc\n", Mode::Verify).unwrap(),
            Outcome::Unchanged
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
