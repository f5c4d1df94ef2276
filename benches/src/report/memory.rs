//! Section 2: memory per tracked agent, and its target.

use crate::results::memory::MemoryPerAgent;

use super::format::{Verdict, num, ratio, table};
use super::page::{Body, Section};

/// RSS growth per agent a `Fleet` may cost, bytes.
pub const MAX_FLEET_BYTES_PER_AGENT: f64 = 2048.0;

const INTRO: &str = include_str!("../../notes/memory.md");

impl MemoryPerAgent {
    fn worst_fleet(&self) -> f64 {
        self.rows
            .iter()
            .map(|r| r.fleet_bytes_per_agent)
            .fold(f64::NAN, f64::max)
    }
}

impl Section for MemoryPerAgent {
    const NAME: &'static str = "memory per tracked agent";
    const HEADING: &'static str = "Memory per tracked agent";
    const NOTE_LABEL: &'static str = "Memory";

    fn target() -> String {
        format!(
            "Fleet ≤ {} KiB per tracked agent",
            num(MAX_FLEET_BYTES_PER_AGENT / 1024.0)
        )
    }

    fn verdict(&self) -> Verdict {
        Verdict::from_bool(self.worst_fleet() <= MAX_FLEET_BYTES_PER_AGENT)
    }

    fn measured(&self) -> String {
        format!("{:.0} B per agent (worst)", self.worst_fleet())
    }

    fn body(&self) -> Body {
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.agents.to_string(),
                    num(r.fleet_bytes_per_agent),
                    num(r.tasks_bytes_per_agent),
                    num(ratio(r.fleet_bytes_per_agent, r.tasks_bytes_per_agent)),
                ]
            })
            .collect();
        let mut md = format!("{INTRO}\n");
        md += &table(
            &[
                "agents",
                "Fleet bytes/agent",
                "task-per-agent bytes/agent",
                "Fleet / tasks",
            ],
            &rows,
        );
        md += &format!("Target: {} — {}.\n\n", Self::target(), self.verdict());
        Body {
            markdown: md,
            plots: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Outcome, small};

    #[test]
    fn the_worst_row_decides() {
        let Outcome::Measured(mut m) = small().benchmarks.memory_per_agent else {
            unreachable!("the sample measures memory")
        };
        m.rows[1].fleet_bytes_per_agent = MAX_FLEET_BYTES_PER_AGENT;
        assert_eq!(m.verdict(), Verdict::Met);
        m.rows[1].fleet_bytes_per_agent = MAX_FLEET_BYTES_PER_AGENT + 0.1;
        assert_eq!(m.verdict(), Verdict::NotMet);
        m.rows.clear();
        assert_eq!(m.verdict(), Verdict::NotMet);
    }
}
