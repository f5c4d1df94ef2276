//! Import circles between the files of one crate's `src/`.
//!
//! The rules are those of `shared/tools/import_cycles.py`, read with a tokenizer instead of
//! regular expressions (so, unlike the script, a string continued with `\` at a line end does
//! not hide the code after it, and `use super::*;` outside tests counts):
//! - every `.rs` file under `src/` is a module, except under folders named `tests`, `benches`,
//!   `examples` or `bin`; `a/mod.rs` and `a.rs` are module `a`; `lib.rs` and `main.rs` the root;
//! - a file imports another when it names a path into it: `crate::a::b`, `super::x`,
//!   `self::y` (in `use` lines, groups expanded, `pub use` re-exports, and inline paths), resolved
//!   to the deepest module file that exists (`crate::a::Thing` is `a`, `crate::Thing` the root);
//! - declaring a child (`mod a;`) is not an import, nor is a re-export written without a root
//!   (`pub use a::Thing;`), so a crate root that only declares and re-exports stays a leaf;
//! - code inside the file's own `#[cfg(test)] mod … { … }` is left out.

mod graph;
mod scan;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use self::scan::{PathRef, Root};

/// One circle: files of one crate that import each other, directly or through the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Circle {
    /// The crate's `src/` folder.
    pub src: PathBuf,
    /// The files in the circle, sorted.
    pub files: Vec<PathBuf>,
    /// A closed walk through all of them; each step with the path that makes it an import.
    pub walk: Vec<Step>,
}

/// One import along a circle's walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The importing file.
    pub from: PathBuf,
    /// The imported file.
    pub to: PathBuf,
    /// The first path in `from` that points into `to`, and its line.
    pub path: String,
    /// 1-based line of that path.
    pub line: usize,
}

impl Circle {
    /// `a.rs → b/mod.rs → a.rs`, then one line per import, file names relative to `src/`.
    pub fn render(&self, root: &Path) -> String {
        let rel = |p: &Path| p.strip_prefix(&self.src).unwrap_or(p).display().to_string();
        let mut names: Vec<String> = self.walk.iter().map(|s| rel(&s.from)).collect();
        if let Some(last) = self.walk.last() {
            names.push(rel(&last.to));
        }
        let mut out = format!(
            "import circle in {} ({} files): {}",
            self.src.strip_prefix(root).unwrap_or(&self.src).display(),
            self.files.len(),
            names.join(" → ")
        );
        for s in &self.walk {
            out.push_str(&format!(
                "\n    {}:{} uses {} ({})",
                rel(&s.from),
                s.line,
                s.path,
                rel(&s.to)
            ));
        }
        out
    }
}

/// Every import circle among the files of the crate whose sources are in `src`.
pub fn find(src: &Path) -> Result<Vec<Circle>, String> {
    let modules = module_files(src)?;
    let files: Vec<PathBuf> = modules.iter().map(|(_, f)| f.clone()).collect();
    let by_module: BTreeMap<&[String], usize> = modules
        .iter()
        .enumerate()
        .rev() // lib.rs, sorted before main.rs, is inserted last and so is the crate root
        .map(|(i, (m, _))| (m.as_slice(), i))
        .collect();
    let mut edges: graph::Edges = vec![BTreeSet::new(); files.len()];
    // The first path that made each edge, for the report.
    let mut why: BTreeMap<(usize, usize), PathRef> = BTreeMap::new();
    for (i, (here, file)) in modules.iter().enumerate() {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        for r in scan::path_refs(&text) {
            if let Some(j) = resolve(&by_module, here, &r)
                && j != i
            {
                edges[i].insert(j);
                why.entry((i, j)).or_insert(r);
            }
        }
    }
    Ok(graph::circles(&edges)
        .into_iter()
        .map(|members| {
            let walk = graph::closed_walk(&edges, &members);
            Circle {
                src: src.to_path_buf(),
                files: members.iter().map(|&m| files[m].clone()).collect(),
                walk: walk
                    .windows(2)
                    .map(|w| {
                        let r = &why[&(w[0], w[1])];
                        Step {
                            from: files[w[0]].clone(),
                            to: files[w[1]].clone(),
                            path: r.text(),
                            line: r.line,
                        }
                    })
                    .collect(),
            }
        })
        .collect())
}

/// The module path of every source file under `src`, sorted by file.
fn module_files(src: &Path) -> Result<Vec<(Vec<String>, PathBuf)>, String> {
    let mut files = Vec::new();
    collect_rs(src, &mut files)?;
    files.sort();
    Ok(files
        .into_iter()
        .map(|f| {
            let rel = f.strip_prefix(src).unwrap_or(&f).with_extension("");
            let mut module: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|l| l == "mod") {
                module.pop();
            }
            if module == ["lib"] || module == ["main"] {
                module.clear();
            }
            (module, f)
        })
        .collect())
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if path.is_dir() {
            // Separate targets or test code, not modules of this crate.
            if !matches!(
                name.as_deref(),
                Some("tests" | "benches" | "examples" | "bin")
            ) {
                collect_rs(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The file a path points into: the deepest existing module along it.
fn resolve(by_module: &BTreeMap<&[String], usize>, here: &[String], r: &PathRef) -> Option<usize> {
    let mut names = r.names.as_slice();
    let mut base: Vec<String> = match r.root {
        Root::Crate => Vec::new(),
        Root::SelfMod => here.to_vec(),
        Root::Super => {
            let mut b = here.to_vec();
            b.pop();
            while let Some(rest) = names.strip_prefix(&["super".to_owned()]) {
                b.pop();
                names = rest;
            }
            b
        }
    };
    base.extend(names.iter().cloned());
    (0..=base.len())
        .rev()
        .find_map(|n| by_module.get(&base[..n]).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A crate on disk: `(path under src, content)`.
    fn krate(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join("src").join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    fn names(dir: &tempfile::TempDir) -> Vec<Vec<String>> {
        let src = dir.path().join("src");
        find(&src)
            .unwrap()
            .iter()
            .map(|c| {
                c.files
                    .iter()
                    .map(|f| f.strip_prefix(&src).unwrap().display().to_string())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_two_file_circle_is_found_and_rendered_with_its_lines() {
        let dir = krate(&[
            ("lib.rs", "pub mod config;\npub mod model;\n"),
            (
                "config.rs",
                "fn v() {\n    crate::model::keys::parse();\n}\n",
            ),
            ("model/mod.rs", "pub mod keys;\n"),
            ("model/keys.rs", "use crate::config::KeyConfig;\n"),
        ]);
        let src = dir.path().join("src");
        let circles = find(&src).unwrap();
        assert_eq!(names(&dir), [["config.rs", "model/keys.rs"]]);
        let text = circles[0].render(dir.path());
        assert!(
            text.starts_with(
                "import circle in src (2 files): config.rs → model/keys.rs → config.rs"
            ),
            "{text}"
        );
        assert!(
            text.contains("config.rs:2 uses crate::model::keys::parse (model/keys.rs)"),
            "{text}"
        );
        assert!(
            text.contains("model/keys.rs:1 uses crate::config::KeyConfig (config.rs)"),
            "{text}"
        );
    }

    #[test]
    fn super_self_and_reexports_count_but_child_declarations_do_not() {
        // server.rs → control.rs (a `pub use crate::…` re-export), control.rs → routes/mod.rs
        // (`super::` from a sibling), routes/mod.rs → server.rs; routes/agents.rs only points
        // up to its parent, which declares it without importing it.
        let dir = krate(&[
            (
                "lib.rs",
                "mod control;\nmod routes;\nmod server;\npub use server::Emulator;\n",
            ),
            ("server.rs", "pub use crate::control::handle;\n"),
            ("control.rs", "fn f() { super::routes::path_uuid(); }\n"),
            ("routes/mod.rs", "mod agents;\nuse crate::server::Shared;\n"),
            ("routes/agents.rs", "use super::Route;\n"),
        ]);
        assert_eq!(names(&dir), [["control.rs", "routes/mod.rs", "server.rs"]]);
    }

    #[test]
    fn no_circle_through_the_root_or_test_modules() {
        let dir = krate(&[
            // The root declares and re-exports; files name items through it.
            ("lib.rs", "mod a;\nmod b;\npub use a::A;\npub use b::B;\n"),
            (
                "a.rs",
                "pub struct A;\nimpl A { fn b(&self) -> crate::B { crate::B } }\n",
            ),
            (
                "b.rs",
                "pub struct B;\n#[cfg(test)]\nmod tests {\n    use crate::a::A;\n}\n",
            ),
            // Test-only folders are not modules of the crate.
            ("bin/tool.rs", "use crate::a::A;\n"),
        ]);
        assert!(names(&dir).is_empty());
    }

    #[test]
    fn nested_super_and_a_larger_circle() {
        let dir = krate(&[
            ("lib.rs", "mod x;\n"),
            ("x/mod.rs", "mod y;\nuse self::y::z::Z;\n"),
            ("x/y/mod.rs", "pub mod z;\n"),
            ("x/y/z.rs", "use super::super::W;\n"),
        ]);
        assert_eq!(names(&dir), [["x/mod.rs", "x/y/z.rs"]]);
    }
}
