//! The fleet's scheduling decisions, as a pure state machine (no IO, no clock): which agents
//! to poll, when a paged `GET /agents?status=…` scan is cheaper than per-agent polls, and when
//! to wake up next.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use nomic_agent_core::policy::poll::PollSchedule;
use nomic_agent_core::rng::Rng;
use nomic_agent_core::wire::{AgentId, AgentStatus};

/// Page size of scans (the API's maximum).
pub(crate) const SCAN_PAGE: u32 = 100;

/// One piece of work the runner should start now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Work {
    /// `GET /agents?status=waiting,running,awaiting_tool`, every page.
    Scan,
    /// `GET /agents/{id}`.
    Poll(AgentId),
}

#[derive(Debug, Clone)]
struct Tracked {
    due: Instant,
    attempt: u32,
    /// A request about this agent is in flight.
    busy: bool,
}

/// Tracks the agents of a fleet and decides what to send.
#[derive(Debug)]
pub(crate) struct Plan {
    agents: HashMap<AgentId, Tracked>,
    /// Agents that must be polled individually as soon as possible (missing from a scan, so
    /// probably terminal), in a stable order.
    confirm: BTreeSet<AgentId>,
    poll: PollSchedule,
    rng: Rng,
    scanning: bool,
    /// Active agents of the user seen in the last scan (ours and others'); scans cost
    /// `ceil(that / SCAN_PAGE)` requests.
    last_scan_total: usize,
}

impl Plan {
    pub(crate) fn new(poll: PollSchedule, seed: u64) -> Plan {
        Plan {
            agents: HashMap::new(),
            confirm: BTreeSet::new(),
            poll,
            rng: Rng::seed(seed),
            scanning: false,
            last_scan_total: 0,
        }
    }

    /// Starts tracking `id`; its first poll is one initial delay away.
    pub(crate) fn track(&mut self, id: AgentId, now: Instant) {
        let due = now + self.poll.initial;
        self.agents.entry(id).or_insert(Tracked {
            due,
            attempt: 0,
            busy: false,
        });
    }

    /// Agents still tracked (not yet reported).
    pub(crate) fn len(&self) -> usize {
        self.agents.len()
    }

    fn pages(&self, n: usize) -> usize {
        n.div_ceil(SCAN_PAGE as usize).max(1)
    }

    /// What to start now, at most `budget` items (the runner's free concurrency).
    pub(crate) fn next_work(&mut self, now: Instant, budget: usize) -> Vec<Work> {
        let mut out = Vec::new();
        // Confirmations first: they are how agents leave the fleet.
        while out.len() < budget {
            let Some(id) = self.confirm.pop_first() else {
                break;
            };
            if let Some(t) = self.agents.get_mut(&id)
                && !t.busy
            {
                t.busy = true;
                out.push(Work::Poll(id));
            }
        }
        if out.len() >= budget || self.scanning {
            return out;
        }
        let mut due: Vec<(Instant, AgentId)> = self
            .agents
            .iter()
            .filter(|(_, t)| !t.busy && t.due <= now)
            .map(|(id, t)| (t.due, *id))
            .collect();
        if due.is_empty() {
            return out;
        }
        let scan_cost = self.pages(self.last_scan_total.max(self.agents.len()));
        // Agents that turn out terminal still need their own poll after a scan, so a scan pays
        // off only when clearly fewer requests than polling everything due.
        if due.len() > 2 * scan_cost {
            self.scanning = true;
            out.push(Work::Scan);
            return out;
        }
        due.sort();
        for (_, id) in due.into_iter().take(budget - out.len()) {
            if let Some(t) = self.agents.get_mut(&id) {
                t.busy = true;
            }
            out.push(Work::Poll(id));
        }
        out
    }

    /// When something next becomes due (`None` when nothing is tracked or all is in flight).
    pub(crate) fn next_wake(&self) -> Option<Instant> {
        if self.scanning {
            return None;
        }
        self.agents
            .values()
            .filter(|t| !t.busy)
            .map(|t| t.due)
            .min()
    }

    fn reschedule(&mut self, id: &AgentId, now: Instant) {
        if let Some(t) = self.agents.get_mut(id) {
            t.attempt = t.attempt.saturating_add(1);
            t.due = now + self.poll.delay(t.attempt, &mut self.rng);
            t.busy = false;
        }
    }

    /// A scan finished: `active` holds every active agent of the user (ours or not). Tracked
    /// agents absent from it are confirmed with individual polls.
    pub(crate) fn on_scan(&mut self, now: Instant, active: &HashMap<AgentId, AgentStatus>) {
        self.scanning = false;
        self.last_scan_total = active.len();
        let ids: Vec<AgentId> = self.agents.keys().copied().collect();
        for id in ids {
            if self.agents.get(&id).is_some_and(|t| t.busy) {
                continue;
            }
            if active.contains_key(&id) {
                self.reschedule(&id, now);
            } else {
                self.confirm.insert(id);
            }
        }
    }

    /// A scan failed: fall back to the normal schedule after a short pause.
    pub(crate) fn on_scan_failed(&mut self, now: Instant) {
        self.scanning = false;
        let pause = self.poll.initial;
        for t in self.agents.values_mut().filter(|t| !t.busy) {
            t.due = t.due.max(now + pause);
        }
    }

    /// A poll of `id` showed `status`. Returns true when the agent is terminal (the runner
    /// reports it and it leaves the plan).
    pub(crate) fn on_polled(&mut self, now: Instant, id: &AgentId, status: &AgentStatus) -> bool {
        if status.is_terminal() {
            self.agents.remove(id);
            self.confirm.remove(id);
            return true;
        }
        self.reschedule(id, now);
        false
    }

    /// A poll of `id` failed in a way worth retrying later.
    pub(crate) fn on_poll_failed(&mut self, now: Instant, id: &AgentId) {
        self.reschedule(id, now);
    }

    /// Stops tracking `id` (reported, or given up on).
    pub(crate) fn remove(&mut self, id: &AgentId) {
        self.agents.remove(id);
        self.confirm.remove(id);
    }

    /// The delay before the first poll, for tests.
    #[cfg(test)]
    fn initial(&self) -> std::time::Duration {
        self.poll.initial
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn id(n: u32) -> AgentId {
        format!("019abc12-3456-7890-abcd-{n:012x}").parse().unwrap()
    }

    fn plan() -> Plan {
        Plan::new(
            PollSchedule::default()
                .with_initial(Duration::from_secs(2))
                .with_jitter(0.0),
            7,
        )
    }

    #[test]
    fn few_agents_are_polled_one_by_one() {
        let mut p = plan();
        let t0 = Instant::now();
        p.track(id(1), t0);
        assert!(
            p.next_work(t0, 8).is_empty(),
            "nothing due before the initial delay"
        );
        assert_eq!(p.next_wake(), Some(t0 + p.initial()));
        let t1 = t0 + p.initial();
        assert_eq!(p.next_work(t1, 8), vec![Work::Poll(id(1))]);
        // In flight: not handed out twice.
        assert!(p.next_work(t1, 8).is_empty());
        assert!(!p.on_polled(t1, &id(1), &AgentStatus::Running));
        let wake = p.next_wake().unwrap();
        assert!(wake > t1, "rescheduled into the future");
        assert!(p.on_polled(wake, &id(1), &AgentStatus::Finished));
        assert_eq!(p.len(), 0);
        assert_eq!(p.next_wake(), None);
    }

    #[test]
    fn many_due_agents_are_scanned_instead() {
        let mut p = plan();
        let t0 = Instant::now();
        for n in 0..250 {
            p.track(id(n), t0);
        }
        let t1 = t0 + p.initial();
        // 250 polls vs 3 pages: scan.
        assert_eq!(p.next_work(t1, 8), vec![Work::Scan]);
        assert!(p.next_work(t1, 8).is_empty(), "one scan at a time");
        // The scan saw 240 of ours active; 10 are missing and get confirmed individually.
        let active: HashMap<AgentId, AgentStatus> =
            (10..250).map(|n| (id(n), AgentStatus::Running)).collect();
        p.on_scan(t1, &active);
        let work = p.next_work(t1, 100);
        let polls: Vec<_> = (0..10).map(|n| Work::Poll(id(n))).collect();
        assert_eq!(work, polls);
        for n in 0..10 {
            assert!(p.on_polled(t1, &id(n), &AgentStatus::Finished));
        }
        assert_eq!(p.len(), 240);
        // The rest were rescheduled by the scan; the next round scans again.
        let t2 = p.next_wake().unwrap();
        assert!(t2 > t1);
        assert_eq!(p.next_work(t2, 8), vec![Work::Scan]);
    }

    #[test]
    fn a_scan_costing_more_than_polls_is_not_used() {
        let mut p = plan();
        let t0 = Instant::now();
        p.track(id(1), t0);
        p.track(id(2), t0);
        // Two due agents vs one page (plus the polls of any that finished): poll.
        let t1 = t0 + p.initial();
        let work = p.next_work(t1, 8);
        assert_eq!(work.len(), 2);
        assert!(work.iter().all(|w| matches!(w, Work::Poll(_))));
    }

    #[test]
    fn other_users_active_agents_make_scans_dearer() {
        let mut p = plan();
        let t0 = Instant::now();
        for n in 0..5 {
            p.track(id(n), t0);
        }
        // Pretend the last scan saw 1,000 active agents (10 pages): 5 polls are cheaper.
        let busy: HashMap<AgentId, AgentStatus> =
            (0..1000).map(|n| (id(n), AgentStatus::Running)).collect();
        p.on_scan(t0, &busy);
        let t1 = p.next_wake().unwrap();
        let work = p.next_work(t1, 8);
        assert_eq!(work.len(), 5);
        assert!(work.iter().all(|w| matches!(w, Work::Poll(_))));
    }

    #[test]
    fn budget_limits_work_and_failures_reschedule() {
        let mut p = plan();
        let t0 = Instant::now();
        p.track(id(1), t0);
        p.track(id(2), t0);
        let t1 = t0 + p.initial();
        let first = p.next_work(t1, 1);
        assert_eq!(first.len(), 1);
        let Work::Poll(polled) = first[0].clone() else {
            panic!()
        };
        p.on_poll_failed(t1, &polled);
        let second = p.next_work(t1, 8);
        assert_eq!(second.len(), 1, "the failed one waits for its backoff");
        assert_ne!(second[0], Work::Poll(polled));
        p.on_scan_failed(t1);
        p.remove(&polled);
        assert_eq!(p.len(), 1);
    }
}
