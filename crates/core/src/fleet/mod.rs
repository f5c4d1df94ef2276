//! The scheduling machine of a fleet: many agents followed to a terminal status by one
//! [`Planner`], without doing any IO.
//!
//! While few agents are tracked the planner polls each on its own schedule (`GET /agents/{id}`,
//! the [`PollSchedule`] backoff). Once paged `GET /agents?status=…` scans of the active agents
//! clearly cost fewer requests, it scans instead, on a cadence anchored to scan *starts* (one
//! every poll cap, or back to back when a scan takes longer than that), one page at a time. The
//! server lists only active agents, so an agent is presumed terminal, and confirmed with one
//! `GET /agents/{id}`, when
//!
//! - a full scan that started after its last known-active observation did not list it, or,
//!   earlier, when
//! - the running scan has fetched the page that listed it last time plus one more page
//!   without listing it (lists are ordered, so an agent stays on or near its page between
//!   scans; a wrong guess costs one poll, which then shows the agent active).
//!
//! The second rule is what keeps detection lag at about half a scan period instead of a scan
//! period plus a whole scan. Agents no scan has listed yet keep their own poll schedule.

mod scan;
mod tracked;
mod work;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

pub use work::{SCAN_PAGE, Work, scan_query};

use self::scan::Scan;
use self::tracked::Tracked;
use crate::policy::poll::PollSchedule;
use crate::rng::Rng;
use crate::wire::{AgentId, AgentStatus};

/// Tracks the agents of a fleet and decides which request to send next, as a sans-IO state
/// machine: the runner owns the clock (`now` is an argument) and the network.
///
/// Its methods, grouped as a runner uses them:
///
/// - **getters**: [`len`](Self::len), [`is_empty`](Self::is_empty),
///   [`is_tracked`](Self::is_tracked);
/// - **commands**: [`track`](Self::track) (an agent known active now),
///   [`untrack`](Self::untrack) (reported, or given up on);
/// - **`handle_*`**, the outcome of each work item:
///   [`handle_scan_page`](Self::handle_scan_page) or
///   [`handle_scan_failure`](Self::handle_scan_failure) for a [`Work::ScanPage`],
///   [`handle_poll`](Self::handle_poll) or [`handle_poll_failure`](Self::handle_poll_failure)
///   for a [`Work::Poll`];
/// - **`poll_*`**: [`poll_work`](Self::poll_work) (the next request to start) and
///   [`poll_timeout`](Self::poll_timeout) (when something next becomes due).
///
/// Drain order, after every command or `handle_*` call and whenever the instant from
/// `poll_timeout` is reached:
///
/// 1. call `poll_work(now)` while the runner has a free request slot, and start each item;
/// 2. then read `poll_timeout()` and wait until that instant or the next completion,
///    whichever comes first (`None`: only a completion can bring new work);
/// 3. feed each completion back through the `handle_*` method of its kind, then go to 1.
///
/// Every item must come back exactly once (a poll may instead end in `untrack`): until then
/// its agent, or the scan, counts as in flight and is not handed out again. A poll that shows
/// a terminal status removes the agent; the runner reports it.
///
/// ```
/// use std::time::{Duration, Instant};
/// use nomic_agent_core::fleet::{Planner, Work};
/// use nomic_agent_core::policy::poll::PollSchedule;
/// use nomic_agent_core::wire::{AgentId, AgentStatus};
///
/// let mut planner = Planner::new(PollSchedule::default().with_jitter(0.0), 7);
/// # #[allow(clippy::disallowed_methods)]
/// let t0 = Instant::now(); // the runner owns the clock; core never reads it
/// let id: AgentId = "019abc12-3456-7890-abcd-ef1234567890".parse()?;
/// planner.track(t0, id);
///
/// // Nothing is due before the first poll delay (2 s by default).
/// assert_eq!(planner.poll_work(t0), None);
/// let at = planner.poll_timeout().expect("a poll is scheduled");
/// assert_eq!(at, t0 + Duration::from_secs(2));
/// assert_eq!(planner.poll_work(at), Some(Work::Poll(id)));
/// assert_eq!(planner.poll_work(at), None, "in flight: not handed out twice");
///
/// // Still running: polled again one backoff step later.
/// assert!(!planner.handle_poll(at, &id, &AgentStatus::Running));
/// let again = planner.poll_timeout().expect("rescheduled");
/// assert_eq!(again, at + Duration::from_secs(4));
///
/// // Finished: it leaves the planner, and the runner reports it.
/// assert_eq!(planner.poll_work(again), Some(Work::Poll(id)));
/// assert!(planner.handle_poll(again, &id, &AgentStatus::Finished));
/// assert!(planner.is_empty());
/// assert_eq!(planner.poll_timeout(), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Planner {
    /// Ordered maps, so every decision is the same for the same inputs and seed.
    agents: BTreeMap<AgentId, Tracked>,
    /// Agents to poll individually as soon as possible (presumed terminal), in a stable order.
    confirm: BTreeSet<AgentId>,
    poll: PollSchedule,
    rng: Rng,
    /// Scans started so far (the current scan's number while one runs).
    scans_started: u32,
    scan: Option<Scan>,
    /// When the next scan may start; `None` before the first one (it starts when the first
    /// agent is due).
    next_scan: Option<Instant>,
    /// Active agents of the user listed by the last full scan (ours and others'); scans cost
    /// `ceil(that / SCAN_PAGE)` requests.
    last_scan_total: usize,
}

impl Planner {
    /// An empty planner polling on `poll`'s schedule (its `deadline` is not used) and scanning
    /// once per `poll.max`; `seed` fixes the jitter.
    pub fn new(poll: PollSchedule, seed: u64) -> Planner {
        Planner {
            agents: BTreeMap::new(),
            confirm: BTreeSet::new(),
            poll,
            rng: Rng::seed(seed),
            scans_started: 0,
            scan: None,
            next_scan: None,
            last_scan_total: 0,
        }
    }

    // ---- getters ------------------------------------------------------------------------

    /// Agents tracked (not yet terminal, nor untracked).
    pub fn len(&self) -> usize {
        self.agents.len()
    }

    /// True when no agent is tracked.
    pub fn is_empty(&self) -> bool {
        self.agents.is_empty()
    }

    /// Whether `id` is tracked.
    pub fn is_tracked(&self, id: &AgentId) -> bool {
        self.agents.contains_key(id)
    }

    // ---- commands -----------------------------------------------------------------------

    /// Starts tracking `id`, known active at `now`; its first poll is one initial delay away.
    /// Tracking an agent twice changes nothing.
    pub fn track(&mut self, now: Instant, id: AgentId) {
        let due = now + self.poll.initial;
        let epoch = self.scans_started;
        self.agents.entry(id).or_insert(Tracked::new(due, epoch));
    }

    /// Stops tracking `id` (reported, or given up on). A poll of it still in flight may be
    /// fed back or dropped; either way it changes nothing.
    pub fn untrack(&mut self, id: &AgentId) {
        self.agents.remove(id);
        self.confirm.remove(id);
    }

    // ---- handle_* -----------------------------------------------------------------------

    /// A scan page arrived: `listed` holds active agents of the user (ours or not), `next`
    /// the cursor of the following page (`None` on the last one).
    pub fn handle_scan_page(
        &mut self,
        now: Instant,
        listed: &[(AgentId, AgentStatus)],
        next: Option<String>,
    ) {
        let Some(scan) = self.scan.as_mut() else {
            return;
        };
        let (page, last) = scan.page_arrived(listed.len(), next);
        for (id, status) in listed {
            let Some(t) = self.agents.get_mut(id) else {
                continue;
            };
            if status.is_terminal() {
                if !t.busy {
                    self.confirm.insert(*id);
                }
                continue;
            }
            t.epoch = scan.epoch;
            t.page = Some(page);
            if !t.busy {
                t.reschedule(now, &self.poll, &mut self.rng);
            }
        }
        for (id, t) in &self.agents {
            if scan.presumes_gone(t, last) {
                self.confirm.insert(*id);
            }
        }
        if last {
            self.last_scan_total = scan.listed;
            self.scan = None;
        }
    }

    /// A scan page failed: the scan is abandoned (nothing is judged from it) and retried
    /// after a short pause (the initial poll delay), which per-agent polls also wait out.
    pub fn handle_scan_failure(&mut self, now: Instant) {
        self.scan = None;
        let pause = self.poll.initial;
        self.next_scan = Some(now + pause);
        for t in self.agents.values_mut().filter(|t| !t.busy) {
            t.due = t.due.max(now + pause);
        }
    }

    /// A poll of `id` showed `status`. Returns true when the status is terminal: the agent has
    /// left the planner and the runner reports it.
    pub fn handle_poll(&mut self, now: Instant, id: &AgentId, status: &AgentStatus) -> bool {
        if status.is_terminal() {
            self.agents.remove(id);
            self.confirm.remove(id);
            return true;
        }
        if let Some(t) = self.agents.get_mut(id) {
            // Active now: only scans started from here on may judge its absence.
            t.epoch = self.scans_started;
            t.reschedule(now, &self.poll, &mut self.rng);
        }
        false
    }

    /// A poll of `id` failed in a way worth retrying: it is polled again one backoff step
    /// after `now`.
    pub fn handle_poll_failure(&mut self, now: Instant, id: &AgentId) {
        if let Some(t) = self.agents.get_mut(id) {
            t.reschedule(now, &self.poll, &mut self.rng);
        }
    }

    // ---- poll_* -------------------------------------------------------------------------

    /// The next request to start at `now`, if any: confirmations of agents presumed terminal
    /// first, then the scan's next page, then per-agent polls, earliest due first. Call it
    /// until it returns `None` or the runner has no free slot.
    pub fn poll_work(&mut self, now: Instant) -> Option<Work> {
        // Confirmations first: they are how agents leave the fleet.
        while let Some(id) = self.confirm.pop_first() {
            if let Some(t) = self.agents.get_mut(&id)
                && !t.busy
            {
                t.busy = true;
                return Some(Work::Poll(id));
            }
        }
        let scan_mode = self.scan_mode();
        match &mut self.scan {
            Some(scan) if !scan.in_flight => {
                scan.in_flight = true;
                return Some(Work::ScanPage(scan.cursor.clone()));
            }
            Some(_) => {}
            None if scan_mode => {
                let due = self
                    .agents
                    .values()
                    .filter(|t| t.due <= now && scan::polled_individually(t, None, true))
                    .count();
                let start = match self.next_scan {
                    // Early when many are due: one scan costs less than their polls.
                    Some(at) => {
                        now >= at || due > 2 * scan::cost(self.last_scan_total, self.agents.len())
                    }
                    None => due > 0,
                };
                if start {
                    self.scans_started = self.scans_started.saturating_add(1);
                    self.scan = Some(Scan::start(self.scans_started));
                    self.next_scan = Some(now + self.poll.max);
                    // Everything tracked so far is this scan's to judge: no polls for them.
                    return Some(Work::ScanPage(None));
                }
            }
            None => {}
        }
        let scan = self.scan.as_ref();
        let (_, id) = self
            .agents
            .iter()
            .filter(|(_, t)| t.due <= now && scan::polled_individually(t, scan, scan_mode))
            .map(|(id, t)| (t.due, *id))
            .min()?;
        if let Some(t) = self.agents.get_mut(&id) {
            t.busy = true;
        }
        Some(Work::Poll(id))
    }

    /// When something next becomes due: `poll_work` may have new work from then on. `None`
    /// when nothing is tracked or everything waits on a request in flight (the runner then
    /// wakes on a completion).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let scan_mode = self.scan_mode();
        let polls = self
            .agents
            .values()
            .filter(|t| scan::polled_individually(t, self.scan.as_ref(), scan_mode))
            .map(|t| t.due)
            .min();
        let scan = match (&self.scan, self.next_scan) {
            (None, Some(at)) if scan_mode => Some(at),
            _ => None,
        };
        polls.into_iter().chain(scan).min()
    }

    // ---- private ------------------------------------------------------------------------

    /// Whether scans, rather than per-agent polls, watch the agents they have listed.
    fn scan_mode(&self) -> bool {
        let tracked = self.agents.len();
        scan::pays_off(tracked, scan::cost(self.last_scan_total, tracked))
    }
}
