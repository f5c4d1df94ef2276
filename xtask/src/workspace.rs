//! The workspace's member folders, read from the root `Cargo.toml` (`members`, `exclude`).

use std::path::{Path, PathBuf};

/// The member folders (absolute), in the manifest's order; a trailing `/*` lists the folders
/// under it that hold a `Cargo.toml`.
pub fn members(root: &Path) -> Result<Vec<PathBuf>, String> {
    let manifest = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let excluded: Vec<PathBuf> = array(&text, "exclude")
        .iter()
        .map(|e| root.join(e))
        .collect();
    let mut out = Vec::new();
    for m in array(&text, "members") {
        match m.strip_suffix("/*") {
            Some(parent) => {
                let dir = root.join(parent);
                let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
                    .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.join("Cargo.toml").is_file())
                    .collect();
                found.sort();
                out.extend(found);
            }
            None => out.push(root.join(m)),
        }
    }
    out.retain(|m| !excluded.contains(m));
    if out.is_empty() {
        return Err(format!("no workspace members in {}", manifest.display()));
    }
    Ok(out)
}

/// The strings of the `key = [ … ]` array in the `[workspace]` table.
fn array(manifest: &str, key: &str) -> Vec<String> {
    let mut in_workspace = false;
    let mut collecting = false;
    let mut out = Vec::new();
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') && !collecting {
            in_workspace = line == "[workspace]";
            continue;
        }
        if !in_workspace {
            continue;
        }
        let rest = if collecting {
            line
        } else if let Some(after) = line
            .strip_prefix(key)
            .map(str::trim_start)
            .and_then(|l| l.strip_prefix('='))
        {
            collecting = true;
            after.trim_start().trim_start_matches('[')
        } else {
            continue;
        };
        let (items, closed) = match rest.split_once(']') {
            Some((items, _)) => (items, true),
            None => (rest, false),
        };
        out.extend(
            items
                .split(',')
                .map(|s| s.trim().trim_matches('"'))
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        if closed {
            collecting = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_members_globs_and_excludes() {
        let dir = tempfile::tempdir().unwrap();
        for c in ["crates/a", "crates/b", "crates/notes", "tools", "fuzz"] {
            std::fs::create_dir_all(dir.path().join(c)).unwrap();
        }
        for c in ["crates/a", "crates/b", "tools", "fuzz"] {
            std::fs::write(dir.path().join(c).join("Cargo.toml"), "").unwrap();
        }
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace]\nresolver = \"3\"\nmembers = [\n    \"crates/*\", # every crate\n    \"tools\",\n    \"fuzz\",\n]\nexclude = [\"fuzz\"]\n\n[workspace.dependencies]\nmembers = [\"not/this\"]\n",
        )
        .unwrap();
        let got: Vec<String> = members(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(got, ["crates/a", "crates/b", "tools"]);
    }

    #[test]
    fn the_real_workspace_lists_every_crate() {
        let root = crate::cmd::root();
        let got = members(&root).unwrap();
        for m in [
            "crates/core",
            "crates/emulator",
            "tests",
            "benches",
            "xtask",
        ] {
            assert!(got.contains(&root.join(m)), "{m} in {got:?}");
        }
        assert!(!got.contains(&root.join("fuzz")));
    }
}
