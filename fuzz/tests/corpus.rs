//! Replays every committed corpus and regression file through its target's check function,
//! on the stable toolchain, so corpus regressions are caught without nightly or libFuzzer.

use std::fs;
use std::path::Path;

use nomic_agent_fuzz::TARGETS;

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_target_has_a_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, _) in TARGETS {
        assert!(
            !files(&root.join("corpus").join(name)).is_empty(),
            "corpus/{name} is empty"
        );
        assert!(
            root.join("fuzz_targets")
                .join(format!("{name}.rs"))
                .is_file(),
            "fuzz_targets/{name}.rs is missing"
        );
    }
}

#[test]
fn replay_corpus_and_regressions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut replayed = 0;
    for (name, check) in TARGETS {
        for dir in ["corpus", "regressions"] {
            for file in files(&root.join(dir).join(name)) {
                let data = fs::read(&file).expect("readable corpus file");
                let outcome = std::panic::catch_unwind(|| check(&data));
                assert!(
                    outcome.is_ok(),
                    "{name}: {} fails its check",
                    file.display()
                );
                replayed += 1;
            }
        }
    }
    assert!(replayed > 0);
}
