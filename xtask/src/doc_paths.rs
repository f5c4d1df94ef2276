//! Paths named in a Markdown document must exist.
//!
//! A path is a backticked span or a link target (outside fenced code blocks) made only of
//! letters, digits, `_`, `-`, `.` and `/`, not starting with `/` (that is a URL route such as
//! `/_emulator/`), that ends with `/`, has a file extension (`.rs`, `.md`, `.toml`, …), or
//! starts with a folder or file at the repository root (`crates/core`).
//!
//! It is resolved from the repository root; if nothing is there, from the folder and the `src/`
//! folder of each workspace crate (documents name `src/dispatch/` or `turn/state.rs` inside the
//! crate they are talking about), where exactly one crate must have it.

use std::path::{Path, PathBuf};

/// Extensions that make a span a file path.
const EXTENSIONS: &[&str] = &[
    "rs", "md", "toml", "json", "lock", "yml", "yaml", "sh", "py", "txt", "svg", "csv",
];

/// A path in the document that does not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPath {
    /// 1-based line.
    pub line: usize,
    /// The path as written.
    pub path: String,
    /// Why: missing, or which crates all have it.
    pub reason: String,
}

/// The paths in `doc` that do not resolve against `root` and the crate folders `crates`.
pub fn check(doc: &str, root: &Path, crates: &[PathBuf]) -> Vec<BadPath> {
    let mut bad = Vec::new();
    for (line, path) in paths(doc, root) {
        if root.join(&path).exists() {
            continue;
        }
        let owners: Vec<String> = crates
            .iter()
            .filter(|c| c.join(&path).exists() || c.join("src").join(&path).exists())
            .map(|c| c.strip_prefix(root).unwrap_or(c).display().to_string())
            .collect();
        let reason = match owners.len() {
            1 => continue,
            0 => "does not exist (from the repository root or any crate's folder or src/)".into(),
            _ => format!(
                "is ambiguous: {} all have it; write it from the repository root",
                owners.join(", ")
            ),
        };
        bad.push(BadPath { line, path, reason });
    }
    bad
}

/// `(line, path)` for every path-like span and link target, in order.
fn paths(doc: &str, root: &Path) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (n, line) in doc.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut candidates: Vec<&str> = line.split('`').skip(1).step_by(2).collect();
        candidates.extend(link_targets(line));
        for c in candidates {
            if is_path(c, root) {
                out.push((n + 1, c.to_owned()));
            }
        }
    }
    out
}

/// The targets of `[text](target)` links that are not URLs or anchors, without their anchor.
fn link_targets(line: &str) -> Vec<&str> {
    line.match_indices("](")
        .filter_map(|(i, _)| {
            let rest = &line[i + 2..];
            let target = &rest[..rest.find(')')?];
            let target = target.split('#').next().unwrap_or("");
            (!target.is_empty() && !target.contains("://") && !target.starts_with("mailto:"))
                .then_some(target)
        })
        .collect()
}

fn is_path(s: &str, root: &Path) -> bool {
    let shaped = !s.is_empty()
        && !s.starts_with('/')
        && !s.contains("//")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
    if !shaped {
        return false;
    }
    let last = s.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let has_extension = last
        .rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && EXTENSIONS.contains(&ext));
    let first = s.split('/').next().unwrap_or("");
    let from_root = s.contains('/') && !first.is_empty() && root.join(first).exists();
    s.ends_with('/') || has_extension || from_root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "docs/wire.md",
            "crates/core/src/turn/state.rs",
            "crates/core/clippy.toml",
            "crates/transport/src/dispatch/mod.rs",
            "crates/transport/src/config.rs",
            "crates/sdk/src/config.rs",
        ] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
        dir
    }

    fn crates(dir: &tempfile::TempDir) -> Vec<PathBuf> {
        ["core", "transport", "sdk"]
            .iter()
            .map(|c| dir.path().join("crates").join(c))
            .collect()
    }

    #[test]
    fn root_and_crate_relative_paths_resolve() {
        let dir = tree();
        let doc = "See `docs/wire.md`, [the wire](docs/wire.md#shapes), `crates/core`,\n\
                   `turn/state.rs`, `src/dispatch/`, a core-local `clippy.toml`.\n\
                   Not paths: `/_emulator/`, `http://`, `GET /agents/{id}`, `tower::Service`,\n\
                   `prompt.images[2].data`, `application/json`, `127.0.0.1:0`, `0.5`,\n\
                   [site](https://example.com/x.md).\n\
                   ```\nnomic-agent --config missing/emu.json\n```\n";
        assert_eq!(check(doc, dir.path(), &crates(&dir)), []);
    }

    #[test]
    fn missing_and_ambiguous_paths_are_reported_with_their_line() {
        let dir = tree();
        let doc =
            "Intro `shared/DESIGN.md`.\n\n`config.rs` and `src/gone/` and [x](docs/nope.md).\n";
        let bad = check(doc, dir.path(), &crates(&dir));
        let got: Vec<(usize, &str)> = bad.iter().map(|b| (b.line, b.path.as_str())).collect();
        assert_eq!(
            got,
            [
                (1, "shared/DESIGN.md"),
                (3, "config.rs"),
                (3, "src/gone/"),
                (3, "docs/nope.md")
            ]
        );
        assert!(bad[0].reason.contains("does not exist"), "{:?}", bad[0]);
        assert!(
            bad[1].reason.contains("crates/transport, crates/sdk"),
            "{:?}",
            bad[1]
        );
    }
}
