//! The schema of `results.json`: every figure one run measured, with the run's metadata. The
//! report (`crate::report`) is rendered from this alone, so a results file can be re-rendered
//! without running anything.
//!
//! Figures only: no verdicts and no ratios that can be computed from two stored figures (the
//! report computes those). The ratios stored here are the ones that cannot be recomputed: a
//! median of per-repetition ratios, each taken between two figures of the same repetition.

pub mod capacity;
pub mod images;
pub mod memory;
pub mod overhead;
pub mod pacing;
pub mod polllag;
pub mod upload;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use capacity::FleetCapacity;
use images::Images;
use memory::MemoryPerAgent;
use overhead::ClientOverhead;
use pacing::Pacing;
use polllag::PollCostVsLag;
use upload::Upload;

/// The version of this schema. Bump it when a field changes meaning or a required field is
/// added; reading a file of another version fails with [`ResultsError::Version`].
pub const SCHEMA_VERSION: u32 = 1;

/// One run's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// When, where and how the run happened.
    pub run: RunInfo,
    /// One outcome per benchmark.
    pub benchmarks: Benchmarks,
}

/// When, where and how a run happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    /// Quick or full.
    pub mode: Mode,
    /// The command that produced the run (`cargo xtask bench --quick`).
    pub command: String,
    /// The machine it ran on.
    pub machine: Machine,
    /// The commit it measured, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<Commit>,
    /// Wall-clock seconds for the whole run.
    pub total_seconds: f64,
    /// Wall-clock seconds per benchmark, by its key in [`Benchmarks`].
    #[serde(default)]
    pub seconds_per_benchmark: BTreeMap<String, f64>,
    /// Set when the figures were transcribed from an earlier report instead of written by the
    /// run itself: where they come from. Figures the report did not show are then absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcribed_from: Option<String>,
}

/// How long a run measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// `--quick`: fewer repetitions and shorter windows.
    Quick,
    /// The full run behind `docs/benchmarks.md`.
    Full,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Quick => "quick",
            Mode::Full => "full",
        })
    }
}

/// The machine a run measured on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model name.
    pub cpu: String,
    /// Logical CPUs available to the run.
    pub logical_cpus: u32,
    /// Total memory, GiB (rounded).
    pub memory_gib: f64,
    /// Kernel release.
    pub kernel: String,
    /// `std::env::consts::OS`.
    pub os: String,
    /// `std::env::consts::ARCH`.
    pub arch: String,
}

/// The commit a run measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// Abbreviated commit id.
    pub id: String,
    /// Tracked files differed from the commit.
    pub dirty: bool,
}

/// One outcome per benchmark; a benchmark left out of the run is [`Outcome::NotRun`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Benchmarks {
    /// Benchmark 1.
    #[serde(default)]
    pub client_overhead: Outcome<ClientOverhead>,
    /// Benchmark 2.
    #[serde(default)]
    pub memory_per_agent: Outcome<MemoryPerAgent>,
    /// Benchmark 3.
    #[serde(default)]
    pub poll_cost_vs_lag: Outcome<PollCostVsLag>,
    /// Benchmark 4.
    #[serde(default)]
    pub fleet_capacity: Outcome<FleetCapacity>,
    /// Benchmark 5.
    #[serde(default)]
    pub pacing: Outcome<Pacing>,
    /// Benchmark 6.
    #[serde(default)]
    pub upload: Outcome<Upload>,
    /// Benchmark 7.
    #[serde(default)]
    pub images: Outcome<Images>,
}

/// What one benchmark produced in a run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome<T> {
    /// Left out of the run (`--only`).
    #[default]
    NotRun,
    /// The benchmark's process failed.
    Failed {
        /// What went wrong.
        error: String,
    },
    /// Its figures.
    Measured(T),
}

/// Why a results file could not be read or written.
#[derive(Debug)]
pub enum ResultsError {
    /// Reading or writing the file failed.
    Io(String, std::io::Error),
    /// The file is not a results document.
    Json(String, serde_json::Error),
    /// The file was written under another schema version.
    Version {
        /// The file.
        path: String,
        /// Its `schema_version`.
        found: u32,
    },
}

impl fmt::Display for ResultsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultsError::Io(path, e) => write!(f, "{path}: {e}"),
            ResultsError::Json(path, e) => write!(f, "{path}: not a results file: {e}"),
            ResultsError::Version { path, found } => write!(
                f,
                "{path}: results schema version {found}; this build reads version {SCHEMA_VERSION}"
            ),
        }
    }
}

impl std::error::Error for ResultsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ResultsError::Io(_, e) => Some(e),
            ResultsError::Json(_, e) => Some(e),
            ResultsError::Version { .. } => None,
        }
    }
}

impl Results {
    /// Parses a results document; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Results, ResultsError> {
        // The version first, so a file from another schema says so instead of failing on
        // whichever field changed.
        #[derive(Deserialize)]
        struct Versioned {
            schema_version: u32,
        }
        let v: Versioned =
            serde_json::from_str(text).map_err(|e| ResultsError::Json(origin.into(), e))?;
        if v.schema_version != SCHEMA_VERSION {
            return Err(ResultsError::Version {
                path: origin.into(),
                found: v.schema_version,
            });
        }
        serde_json::from_str(text).map_err(|e| ResultsError::Json(origin.into(), e))
    }

    /// The document as written to disk: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        // Serializing plain structs of numbers and strings cannot fail.
        serde_json::to_string_pretty(self).expect("results serialize") + "\n"
    }

    /// Reads and parses `path`.
    pub fn read(path: &Path) -> Result<Results, ResultsError> {
        let origin = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| ResultsError::Io(origin.clone(), e))?;
        Results::from_json(&text, &origin)
    }

    /// Writes the document to `path`, creating its folder.
    pub fn write(&self, path: &Path) -> Result<(), ResultsError> {
        let origin = || path.display().to_string();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| ResultsError::Io(origin(), e))?;
        }
        std::fs::write(path, self.to_json()).map_err(|e| ResultsError::Io(origin(), e))
    }
}

/// The small synthetic results the unit tests render (`benches/testdata/results-small.json`).
#[cfg(test)]
pub fn small() -> Results {
    Results::from_json(
        include_str!("../../testdata/results-small.json"),
        "testdata/results-small.json",
    )
    .expect("the test results parse")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_results_document_survives_a_round_trip() {
        let r = small();
        let text = r.to_json();
        let back = Results::from_json(&text, "round trip").expect("parses");
        assert_eq!(back, r);
        // Through a file too, as `all` and `report` use it.
        let dir = std::env::temp_dir().join(format!("bench-results-{}", std::process::id()));
        let path = dir.join("nested").join("results.json");
        r.write(&path).expect("writes");
        assert_eq!(Results::read(&path).expect("reads"), r);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_json_names_are_the_documented_ones() {
        let v: serde_json::Value = serde_json::from_str(&small().to_json()).expect("json");
        let b = &v["benchmarks"];
        assert_eq!(v["schema_version"], SCHEMA_VERSION);
        assert_eq!(v["run"]["mode"], "quick");
        assert_eq!(
            b["fleet_capacity"]["measured"]["rows"][0]["client"],
            "per_agent"
        );
        assert_eq!(
            b["pacing"]["measured"]["rows"][1]["client"],
            "naive_retry_on_429"
        );
        assert_eq!(b["pacing"]["measured"]["rows"][0]["tier"], "heavy_launch");
    }

    #[test]
    fn absent_sections_read_as_not_run_and_failures_keep_their_error() {
        let mut v: serde_json::Value = serde_json::from_str(&small().to_json()).expect("json");
        let b = v["benchmarks"].as_object_mut().expect("object");
        b.remove("upload");
        b.insert(
            "pacing".into(),
            serde_json::json!({"failed": {"error": "boom"}}),
        );
        b.insert("images".into(), serde_json::json!("not_run"));
        let r = Results::from_json(&v.to_string(), "edited").expect("parses");
        assert_eq!(r.benchmarks.upload, Outcome::NotRun);
        assert_eq!(r.benchmarks.images, Outcome::NotRun);
        assert_eq!(
            r.benchmarks.pacing,
            Outcome::Failed {
                error: "boom".into()
            }
        );
    }

    #[test]
    fn another_schema_version_is_a_typed_error() {
        let mut v: serde_json::Value = serde_json::from_str(&small().to_json()).expect("json");
        v["schema_version"] = serde_json::json!(SCHEMA_VERSION + 1);
        let e = Results::from_json(&v.to_string(), "old.json").expect_err("refused");
        assert!(
            matches!(e, ResultsError::Version { found, .. } if found == SCHEMA_VERSION + 1),
            "{e:?}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("old.json") && msg.contains(&SCHEMA_VERSION.to_string()),
            "{msg}"
        );

        let e = Results::from_json("{\"schema_version\": 1}", "bare.json").expect_err("refused");
        assert!(matches!(e, ResultsError::Json(..)), "{e:?}");
        let e = Results::read(Path::new("/nonexistent/results.json")).expect_err("refused");
        assert!(matches!(e, ResultsError::Io(..)), "{e:?}");
    }
}
