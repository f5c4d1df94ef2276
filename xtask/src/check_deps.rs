//! The architecture's dependency boundaries, checked from `cargo tree`.
//!
//! - `nomic-agent-core` is sans-IO: its normal dependency tree holds no async runtime, HTTP stack,
//!   TLS or socket crate.
//! - `nomic-agent-emulator` is an independent model of the server: it does not depend on core in
//!   any way (normal, build or dev).
//! - No import circle between the files of any workspace crate's `src/` (except the known
//!   circles listed in [`KNOWN_CIRCLES`], being removed).
//! - Every path `docs/ARCHITECTURE.md` names exists.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::import_cycles::{self, Circle};
use crate::{cmd, doc_paths, workspace};

/// Import circles that were there when the check was added (issue 14 item 3), printed as
/// warnings until they are taken apart: files from the repository root, sorted.
///
/// This list must only shrink. A circle that is not here fails the check, as does an entry
/// that no longer matches any circle (delete it: the files must not close a circle again).
/// A circle made of fewer of an entry's files passes with a note to narrow the entry.
const KNOWN_CIRCLES: &[&[&str]] = &[];

/// The document whose paths must exist.
const ARCHITECTURE: &str = "docs/ARCHITECTURE.md";

/// Crates that mean IO or a runtime; none may appear under core.
const FORBIDDEN_IN_CORE: &[&str] = &[
    "tokio",
    "hyper",
    "hyper-util",
    "hyper-rustls",
    "tower",
    "tower-service",
    "rustls",
    "mio",
    "reqwest",
    "socket2",
];

pub fn run() -> Result<(), String> {
    let core_tree = tree("nomic-agent-core", "normal")?;
    let bad: Vec<&str> = FORBIDDEN_IN_CORE
        .iter()
        .copied()
        .filter(|name| core_tree.iter().any(|c| c == name))
        .collect();
    if !bad.is_empty() {
        return Err(format!(
            "nomic-agent-core must stay sans-IO, but its dependency tree holds: {}",
            bad.join(", ")
        ));
    }
    eprintln!(
        "check-deps: core is free of IO crates ({} crates in its tree)",
        core_tree.len()
    );

    let emulator_tree = tree("nomic-agent-emulator", "normal,build,dev")?;
    if emulator_tree.iter().any(|c| c == "nomic-agent-core") {
        return Err("nomic-agent-emulator depends on nomic-agent-core; it must model the wire format on its own".into());
    }
    eprintln!("check-deps: the emulator does not depend on core");

    let root = cmd::root();
    let members = workspace::members(&root)?;
    check_import_circles(&root, &members)?;
    check_architecture_paths(&root, &members)
}

/// Fails on any import circle in a member's `src/` that [`KNOWN_CIRCLES`] does not allow.
fn check_import_circles(root: &Path, members: &[PathBuf]) -> Result<(), String> {
    let mut circles = Vec::new();
    for member in members {
        let src = member.join("src");
        if src.is_dir() {
            circles.extend(import_cycles::find(&src)?);
        }
    }
    let verdict = judge(root, &circles, KNOWN_CIRCLES);
    for (circle, note) in &verdict.known {
        eprintln!(
            "check-deps: warning (a known circle, allowed for now by KNOWN_CIRCLES in \
             xtask/src/check_deps.rs{note}): {}",
            circle.render(root)
        );
    }
    let mut errors: Vec<String> = verdict
        .new
        .iter()
        .map(|c| format!("new {}", c.render(root)))
        .collect();
    errors.extend(verdict.stale.iter().map(|entry| {
        format!(
            "KNOWN_CIRCLES in xtask/src/check_deps.rs lists a circle that is gone ({}): delete the entry",
            entry.join(", ")
        )
    }));
    if !errors.is_empty() {
        return Err(format!(
            "import circles between files (a file must not import, through any chain, a file \
             that imports it):\n{}",
            errors.join("\n")
        ));
    }
    eprintln!(
        "check-deps: no import circle in {} crates ({} known, allowed for now)",
        members.len(),
        verdict.known.len()
    );
    Ok(())
}

/// Circles sorted against the allow-list.
#[derive(Debug, Default)]
struct Verdict<'a> {
    /// Allowed, with a note when the entry can be narrowed.
    known: Vec<(&'a Circle, String)>,
    /// Not allowed.
    new: Vec<&'a Circle>,
    /// Allow-list entries that no circle falls in any more.
    stale: Vec<&'static [&'static str]>,
}

fn judge<'a>(
    root: &Path,
    circles: &'a [Circle],
    allowed: &[&'static [&'static str]],
) -> Verdict<'a> {
    let files = |c: &Circle| -> BTreeSet<String> {
        c.files
            .iter()
            .map(|f| f.strip_prefix(root).unwrap_or(f).display().to_string())
            .collect()
    };
    let mut v = Verdict::default();
    let mut used = vec![false; allowed.len()];
    for c in circles {
        let mine = files(c);
        let entry = allowed.iter().position(|entry| {
            let entry: BTreeSet<String> = entry.iter().map(|s| s.to_string()).collect();
            mine.is_subset(&entry)
        });
        match entry {
            Some(i) => {
                used[i] = true;
                let note = if mine.len() < allowed[i].len() {
                    format!("; it shrank to {} files: narrow its entry", mine.len())
                } else {
                    String::new()
                };
                v.known.push((c, note));
            }
            None => v.new.push(c),
        }
    }
    v.stale = allowed
        .iter()
        .zip(used)
        .filter(|(_, used)| !used)
        .map(|(e, _)| *e)
        .collect();
    v
}

/// Fails when `docs/ARCHITECTURE.md` names a path that does not exist.
fn check_architecture_paths(root: &Path, members: &[PathBuf]) -> Result<(), String> {
    let doc = std::fs::read_to_string(root.join(ARCHITECTURE))
        .map_err(|e| format!("cannot read {ARCHITECTURE}: {e}"))?;
    let bad = doc_paths::check(&doc, root, members);
    if bad.is_empty() {
        eprintln!("check-deps: every path {ARCHITECTURE} names exists");
        return Ok(());
    }
    Err(format!(
        "{ARCHITECTURE} names paths that do not resolve (rule at the top of the document):\n{}",
        bad.iter()
            .map(|b| format!("    {ARCHITECTURE}:{}: `{}` {}", b.line, b.path, b.reason))
            .collect::<Vec<_>>()
            .join("\n")
    ))
}

/// The crate names in `package`'s dependency tree for the given edge kinds.
fn tree(package: &str, edges: &str) -> Result<Vec<String>, String> {
    let text = cmd::output(
        "cargo tree",
        cmd::cargo().args([
            "tree",
            "-p",
            package,
            "-e",
            edges,
            "--prefix",
            "none",
            "--no-dedupe",
        ]),
    )?;
    Ok(crate_names(&text))
}

/// Parses `cargo tree --prefix none` lines (`name vX.Y.Z (...)`) into crate names.
fn crate_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn circle(root: &Path, files: &[&str]) -> Circle {
        Circle {
            src: root.join("crates/x/src"),
            files: files.iter().map(|f| root.join(f)).collect(),
            walk: Vec::new(),
        }
    }

    #[test]
    fn only_known_circles_pass_and_gone_ones_must_leave_the_list() {
        let root = Path::new("/repo");
        const AB: &[&str] = &[
            "crates/x/src/a.rs",
            "crates/x/src/b.rs",
            "crates/x/src/c.rs",
        ];
        const GONE: &[&str] = &["crates/y/src/a.rs", "crates/y/src/b.rs"];
        let circles = [
            circle(root, &["crates/x/src/a.rs", "crates/x/src/b.rs"]),
            circle(root, &["crates/x/src/a.rs", "crates/x/src/d.rs"]),
        ];
        let v = judge(root, &circles, &[AB, GONE]);
        assert_eq!(v.known.len(), 1);
        assert!(v.known[0].1.contains("narrow"), "{}", v.known[0].1);
        assert_eq!(v.new, [&circles[1]]);
        assert_eq!(v.stale, [GONE]);

        let exact = [circle(root, AB)];
        let v = judge(root, &exact, &[AB]);
        assert_eq!((v.known.len(), v.known[0].1.as_str()), (1, ""));
        assert!(v.new.is_empty() && v.stale.is_empty());
    }

    /// The gate on this very tree: the known list is exact, and the emulator and the transport
    /// have no circle.
    #[test]
    fn this_workspace_passes_the_gate() {
        let root = cmd::root();
        let members = workspace::members(&root).unwrap();
        let mut circles = Vec::new();
        for m in &members {
            if m.join("src").is_dir() {
                circles.extend(import_cycles::find(&m.join("src")).unwrap());
            }
        }
        let v = judge(&root, &circles, KNOWN_CIRCLES);
        let new: Vec<String> = v.new.iter().map(|c| c.render(&root)).collect();
        assert!(new.is_empty(), "{}", new.join("\n"));
        assert!(v.stale.is_empty(), "{:?}", v.stale);
        assert_eq!(check_architecture_paths(&root, &members), Ok(()));
    }

    #[test]
    fn parses_tree_lines() {
        let text = "nomic-agent-core v0.1.0 (/x)\nserde v1.0.0\nserde v1.0.0\ntokio v1.0.0 (*)\n";
        assert_eq!(
            crate_names(text),
            vec!["nomic-agent-core", "serde", "tokio"]
        );
    }
}
