//! The explanatory notes at the end of `docs/benchmarks.md` (profiles of the gaps, scaling).

use serde_json::Value;

pub fn notes(_results: &Value) -> String {
    String::new()
}
