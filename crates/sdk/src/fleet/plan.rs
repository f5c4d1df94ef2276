//! The fleet's scheduling decisions, as a pure state machine (no IO, no clock): which agents
//! to poll, when paged `GET /agents?status=…` scans of the active agents are cheaper than
//! per-agent polls, and when to wake up next.
//!
//! Scans run on a cadence anchored to scan *starts* (one every poll cap, or back to back when a
//! scan takes longer than that), one page at a time. The server lists only active agents, so an
//! agent is presumed terminal, and confirmed with one `GET /agents/{id}`, when
//!
//! - a full scan that started after its last known-active observation did not list it, or,
//!   earlier, when
//! - the running scan has fetched the page that listed it last time plus [`PAGE_SLACK`] more
//!   pages without listing it (lists are ordered, so an agent stays on or near its page
//!   between scans; a wrong guess costs one poll, which then shows the agent active).
//!
//! The second rule is what keeps detection lag at about half a scan period instead of a scan
//! period plus a whole scan.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use nomic_agent_core::policy::poll::PollSchedule;
use nomic_agent_core::rng::Rng;
use nomic_agent_core::wire::{AgentId, AgentStatus};

/// Page size of scans (the API's maximum).
pub(crate) const SCAN_PAGE: u32 = 100;

/// Pages a scan may go past an agent's last known page before the agent is presumed gone.
const PAGE_SLACK: u32 = 1;

/// `Tracked::page` of an agent no scan has listed yet.
const NO_PAGE: u32 = u32::MAX;

/// One piece of work the runner should start now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Work {
    /// One page of `GET /agents?status=waiting,running,awaiting_tool&limit=100`, from the
    /// given cursor (`None`: the first page).
    ScanPage(Option<String>),
    /// `GET /agents/{id}`.
    Poll(AgentId),
}

#[derive(Debug, Clone)]
struct Tracked {
    /// When a per-agent poll is due (used while the agent is not covered by scans).
    due: Instant,
    attempt: u32,
    /// `Plan::scans_started` at the last observation of the agent as active (tracking, a
    /// poll, a scan page): scans numbered above it may judge the agent's absence.
    epoch: u32,
    /// The page of the last scan that listed it; `NO_PAGE` if none has.
    page: u32,
    /// A request about this agent is in flight.
    busy: bool,
}

#[derive(Debug)]
struct Scan {
    /// This scan's number.
    epoch: u32,
    pages_done: u32,
    /// Cursor of the next page (`None` before the first page).
    cursor: Option<String>,
    in_flight: bool,
    /// Active agents listed so far (ours and other clients').
    listed: usize,
}

/// Tracks the agents of a fleet and decides what to send.
#[derive(Debug)]
pub(crate) struct Plan {
    agents: HashMap<AgentId, Tracked>,
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

impl Plan {
    pub(crate) fn new(poll: PollSchedule, seed: u64) -> Plan {
        Plan {
            agents: HashMap::new(),
            confirm: BTreeSet::new(),
            poll,
            rng: Rng::seed(seed),
            scans_started: 0,
            scan: None,
            next_scan: None,
            last_scan_total: 0,
        }
    }

    /// Starts tracking `id` (known active now); its first poll is one initial delay away.
    pub(crate) fn track(&mut self, id: AgentId, now: Instant) {
        let due = now + self.poll.initial;
        let epoch = self.scans_started;
        self.agents.entry(id).or_insert(Tracked {
            due,
            attempt: 0,
            epoch,
            page: NO_PAGE,
            busy: false,
        });
    }

    /// Agents still tracked (not yet reported).
    pub(crate) fn len(&self) -> usize {
        self.agents.len()
    }

    /// Requests one full scan costs.
    fn scan_cost(&self) -> usize {
        self.last_scan_total
            .max(self.agents.len())
            .div_ceil(SCAN_PAGE as usize)
            .max(1)
    }

    /// Scans replace per-agent polls once they clearly cost less: every agent is polled at
    /// least once per cap, a scan every cap costs its pages plus a poll per agent that left.
    fn scan_mode(&self) -> bool {
        self.agents.len() > 2 * self.scan_cost()
    }

    /// Whether `t` is left to per-agent polling (as opposed to scans) right now.
    fn polled_individually(&self, t: &Tracked, scan_mode: bool) -> bool {
        if t.busy {
            return false;
        }
        if !scan_mode {
            return true;
        }
        // Listed by a scan: the scans watch it. Active before the running scan started: that
        // scan will list it or flag it.
        t.page == NO_PAGE && self.scan.as_ref().is_none_or(|s| t.epoch >= s.epoch)
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
        if out.len() >= budget {
            return out;
        }
        let scan_mode = self.scan_mode();
        let mut due: Vec<(Instant, AgentId)> = self
            .agents
            .iter()
            .filter(|(_, t)| t.due <= now && self.polled_individually(t, scan_mode))
            .map(|(id, t)| (t.due, *id))
            .collect();
        match &mut self.scan {
            Some(scan) if !scan.in_flight => {
                scan.in_flight = true;
                out.push(Work::ScanPage(scan.cursor.clone()));
            }
            Some(_) => {}
            None if scan_mode => {
                let start = match self.next_scan {
                    Some(at) => now >= at || due.len() > 2 * self.scan_cost(),
                    None => !due.is_empty(),
                };
                if start {
                    self.scans_started = self.scans_started.saturating_add(1);
                    self.scan = Some(Scan {
                        epoch: self.scans_started,
                        pages_done: 0,
                        cursor: None,
                        in_flight: true,
                        listed: 0,
                    });
                    self.next_scan = Some(now + self.poll.max);
                    out.push(Work::ScanPage(None));
                    // Everything tracked so far is this scan's to judge.
                    due.clear();
                }
            }
            None => {}
        }
        due.sort();
        for (_, id) in due.into_iter().take(budget.saturating_sub(out.len())) {
            if let Some(t) = self.agents.get_mut(&id) {
                t.busy = true;
            }
            out.push(Work::Poll(id));
        }
        out
    }

    /// When something next becomes due (`None` when nothing is tracked or all is in flight:
    /// the runner then wakes on a completion).
    pub(crate) fn next_wake(&self) -> Option<Instant> {
        let scan_mode = self.scan_mode();
        let polls = self
            .agents
            .values()
            .filter(|t| self.polled_individually(t, scan_mode))
            .map(|t| t.due)
            .min();
        let scan = match (&self.scan, self.next_scan) {
            (None, Some(at)) if scan_mode => Some(at),
            _ => None,
        };
        polls.into_iter().chain(scan).min()
    }

    fn reschedule(&mut self, id: &AgentId, now: Instant) {
        if let Some(t) = self.agents.get_mut(id) {
            t.attempt = t.attempt.saturating_add(1);
            t.due = now + self.poll.delay(t.attempt, &mut self.rng);
            t.busy = false;
        }
    }

    /// A scan page arrived: `listed` holds active agents of the user (ours or not), `next`
    /// the cursor of the following page (`None` on the last one).
    pub(crate) fn on_scan_page(
        &mut self,
        now: Instant,
        listed: &[(AgentId, AgentStatus)],
        next: Option<String>,
    ) {
        let Some(scan) = self.scan.as_mut() else {
            return;
        };
        let page = scan.pages_done;
        scan.pages_done = scan.pages_done.saturating_add(1);
        scan.in_flight = false;
        scan.listed += listed.len();
        let (epoch, pages_done) = (scan.epoch, scan.pages_done);
        // A server repeating its cursor would loop forever: treat it as the last page.
        let last = next.is_none() || next == scan.cursor;
        scan.cursor = next;
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
            t.epoch = epoch;
            t.page = page;
            if !t.busy {
                t.attempt = t.attempt.saturating_add(1);
                t.due = now + self.poll.delay(t.attempt, &mut self.rng);
            }
        }
        for (id, t) in &self.agents {
            if t.busy || t.epoch >= epoch {
                continue;
            }
            let passed = t.page != NO_PAGE && t.page.saturating_add(PAGE_SLACK) < pages_done;
            if last || passed {
                self.confirm.insert(*id);
            }
        }
        if last {
            let listed = self.scan.take().map_or(0, |s| s.listed);
            self.last_scan_total = listed;
        }
    }

    /// A scan page failed: abandon the scan (nothing is judged from it) and retry after a
    /// short pause.
    pub(crate) fn on_scan_failed(&mut self, now: Instant) {
        self.scan = None;
        let pause = self.poll.initial;
        self.next_scan = Some(now + pause);
        for t in self.agents.values_mut().filter(|t| !t.busy) {
            t.due = t.due.max(now + pause);
        }
    }

    /// A poll of `id` showed `status`. Returns true when the agent is terminal (the runner
    /// reports it and it leaves the plan).
    pub(crate) fn on_polled(&mut self, now: Instant, id: &AgentId, status: &AgentStatus) -> bool {
        if status.is_terminal() {
            self.remove(id);
            return true;
        }
        if let Some(t) = self.agents.get_mut(id) {
            // Active now: only scans started from here on may judge its absence.
            t.epoch = self.scans_started;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn id(n: u32) -> AgentId {
        format!("019abc12-3456-7890-abcd-{n:012x}").parse().unwrap()
    }

    const CAP: Duration = Duration::from_secs(30);
    const INITIAL: Duration = Duration::from_secs(2);

    fn plan() -> Plan {
        Plan::new(
            PollSchedule::default()
                .with_initial(INITIAL)
                .with_max(CAP)
                .with_jitter(0.0),
            7,
        )
    }

    /// A plan tracking the agents numbered `ids`, all since the returned instant.
    fn tracking(ids: std::ops::Range<u32>) -> (Plan, Instant) {
        let mut p = plan();
        let t0 = Instant::now();
        for n in ids {
            p.track(id(n), t0);
        }
        (p, t0)
    }

    fn running(ids: impl IntoIterator<Item = u32>) -> Vec<(AgentId, AgentStatus)> {
        ids.into_iter()
            .map(|n| (id(n), AgentStatus::Running))
            .collect()
    }

    fn polls(ids: impl IntoIterator<Item = u32>) -> Vec<Work> {
        ids.into_iter().map(|n| Work::Poll(id(n))).collect()
    }

    fn cursor(page: u32) -> Option<String> {
        Some(format!("c{page}"))
    }

    /// Feeds one full scan of `pages` (each page's agents, all running) starting at `t`, one
    /// second per page; returns the polls handed out along the way and the end time.
    fn run_scan(p: &mut Plan, t: Instant, pages: &[Vec<u32>]) -> (Vec<Work>, Instant) {
        let mut now = t;
        let mut work = Vec::new();
        for (i, page) in pages.iter().enumerate() {
            let expected = if i == 0 { None } else { cursor(i as u32) };
            let got = p.next_work(now, 100);
            assert!(got.contains(&Work::ScanPage(expected)), "page {i}: {got:?}");
            work.extend(got.into_iter().filter(|w| matches!(w, Work::Poll(_))));
            now += Duration::from_secs(1);
            let next = if i + 1 == pages.len() {
                None
            } else {
                cursor(i as u32 + 1)
            };
            p.on_scan_page(now, &running(page.iter().copied()), next);
        }
        work.extend(p.next_work(now, 100));
        (work, now)
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
        assert_eq!(p.next_wake(), Some(t0 + INITIAL));
        let t1 = t0 + INITIAL;
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
    fn many_agents_are_scanned_and_absentees_confirmed() {
        let (mut p, t0) = tracking(0..250);
        assert!(p.next_work(t0, 8).is_empty());
        assert_eq!(p.next_wake(), Some(t0 + INITIAL));
        let t1 = t0 + INITIAL;
        // 250 polls vs 3 pages: scan, page by page, never two pages at once.
        assert_eq!(p.next_work(t1, 8), vec![Work::ScanPage(None)]);
        assert!(p.next_work(t1, 8).is_empty(), "one page at a time");
        p.on_scan_page(t1, &running(10..110), cursor(1));
        assert!(
            p.next_work(t1, 8).contains(&Work::ScanPage(cursor(1))),
            "no page position known yet: nobody is flagged early"
        );
        p.on_scan_page(t1, &running(110..210), cursor(2));
        assert_eq!(p.next_work(t1, 8), vec![Work::ScanPage(cursor(2))]);
        p.on_scan_page(t1, &running(210..250), None);
        // 0..10 were not listed by a full scan that started after they were tracked.
        assert_eq!(p.next_work(t1, 100), polls(0..10));
        for n in 0..10 {
            assert!(p.on_polled(t1, &id(n), &AgentStatus::Finished));
        }
        assert_eq!(p.len(), 240);
        // The listed agents are left to the scans: no per-agent polls in between.
        assert_eq!(p.next_wake(), Some(t1 + CAP));
        assert!(
            p.next_work(t1 + CAP - Duration::from_millis(1), 100)
                .is_empty()
        );
        assert_eq!(p.next_work(t1 + CAP, 8), vec![Work::ScanPage(None)]);
    }

    #[test]
    fn scans_are_anchored_to_their_starts() {
        let (mut p, t0) = tracking(0..250);
        let t1 = t0 + INITIAL;
        // A slow scan: 3 pages over 20 s.
        let mut now = t1;
        assert_eq!(p.next_work(now, 8), vec![Work::ScanPage(None)]);
        for (i, range) in [0..100, 100..200, 200..250].into_iter().enumerate() {
            if i > 0 {
                assert_eq!(p.next_work(now, 8), vec![Work::ScanPage(cursor(i as u32))]);
            }
            now += Duration::from_secs(7);
            let next = if i < 2 { cursor(i as u32 + 1) } else { None };
            p.on_scan_page(now, &running(range), next);
        }
        // The next scan starts one cap after the previous *start*, not one cap after its end.
        assert_eq!(p.next_wake(), Some(t1 + CAP));
        // A scan longer than the cap is followed at once by the next.
        let t2 = t1 + CAP;
        assert_eq!(p.next_work(t2, 8), vec![Work::ScanPage(None)]);
        let late = t2 + CAP + Duration::from_secs(5);
        p.on_scan_page(late, &running(0..250), None);
        assert_eq!(p.next_wake(), Some(t2 + CAP));
        assert_eq!(p.next_work(late, 8), vec![Work::ScanPage(None)]);
    }

    #[test]
    fn an_agent_missing_from_its_page_is_confirmed_before_the_scan_ends() {
        let (mut p, t0) = tracking(0..500);
        let pages: Vec<Vec<u32>> = (0..5).map(|i| (i * 100..i * 100 + 100).collect()).collect();
        let (work, end) = run_scan(&mut p, t0 + INITIAL, &pages);
        assert!(work.is_empty(), "{work:?}");
        // Second scan: agent 50 (page 0) and agent 450 (page 4) are gone.
        let t2 = p.next_wake().unwrap();
        assert!(t2 > end);
        assert_eq!(p.next_work(t2, 8), vec![Work::ScanPage(None)]);
        p.on_scan_page(t2, &running((0..100).filter(|n| *n != 50)), cursor(1));
        // One page of slack: page 1 could hold agents pushed down by newer launches.
        assert_eq!(p.next_work(t2, 8), vec![Work::ScanPage(cursor(1))]);
        p.on_scan_page(t2, &running(100..200), cursor(2));
        // Pages 0 and 1 done without agent 50: confirmed now, three pages before the end.
        assert_eq!(
            p.next_work(t2, 8),
            vec![Work::Poll(id(50)), Work::ScanPage(cursor(2))]
        );
        assert!(p.on_polled(t2, &id(50), &AgentStatus::Finished));
        p.on_scan_page(t2, &running(200..300), cursor(3));
        p.on_scan_page(t2, &running(300..400), cursor(4));
        assert_eq!(p.next_work(t2, 8), vec![Work::ScanPage(cursor(4))]);
        p.on_scan_page(t2, &running(400..450), None);
        assert_eq!(p.next_work(t2, 100), polls(450..500));
    }

    #[test]
    fn a_wrong_guess_costs_one_poll_and_no_report() {
        let (mut p, t0) = tracking(0..300);
        let pages: Vec<Vec<u32>> = (0..3).map(|i| (i * 100..i * 100 + 100).collect()).collect();
        run_scan(&mut p, t0 + INITIAL, &pages);
        let t2 = p.next_wake().unwrap();
        assert_eq!(p.next_work(t2, 8), vec![Work::ScanPage(None)]);
        // Many newer agents pushed ours two pages down.
        p.on_scan_page(t2, &running(1000..1100), cursor(1));
        p.on_scan_page(t2, &running(1100..1200), cursor(2));
        let work = p.next_work(t2, 200);
        let flagged: Vec<_> = work
            .iter()
            .filter(|w| **w != Work::ScanPage(cursor(2)))
            .collect();
        assert_eq!(flagged.len(), 100, "page 0's agents look gone");
        for n in 0..100 {
            assert!(!p.on_polled(t2, &id(n), &AgentStatus::Running));
        }
        // Their poll showed them active during this scan: its end does not judge them again.
        p.on_scan_page(t2, &running(100..300), None);
        assert!(p.next_work(t2, 200).is_empty());
        assert_eq!(p.len(), 300);
    }

    #[test]
    fn agents_tracked_during_a_scan_are_not_judged_by_it() {
        let (mut p, t0) = tracking(0..250);
        let t1 = t0 + INITIAL;
        assert_eq!(p.next_work(t1, 8), vec![Work::ScanPage(None)]);
        p.track(id(999), t1);
        p.on_scan_page(t1, &running(0..250), None);
        assert!(
            p.next_work(t1, 8).is_empty(),
            "999 was not expected in the list"
        );
        // It is polled on its own schedule until a scan lists it.
        assert_eq!(p.next_wake(), Some(t1 + INITIAL));
        assert_eq!(p.next_work(t1 + INITIAL, 8), polls([999]));
    }

    #[test]
    fn a_scan_costing_more_than_polls_is_not_used() {
        let mut p = plan();
        let t0 = Instant::now();
        p.track(id(1), t0);
        p.track(id(2), t0);
        // Two due agents vs one page (plus the polls of any that finished): poll.
        let t1 = t0 + INITIAL;
        let work = p.next_work(t1, 8);
        assert_eq!(work.len(), 2);
        assert!(work.iter().all(|w| matches!(w, Work::Poll(_))));
    }

    #[test]
    fn other_users_active_agents_make_scans_dearer() {
        let (mut p, t0) = tracking(0..5);
        let t1 = t0 + INITIAL;
        assert_eq!(p.next_work(t1, 8), vec![Work::ScanPage(None)]);
        // The scan listed 1,000 active agents (10 pages): 5 polls are cheaper from now on.
        p.on_scan_page(t1, &running(0..1000), None);
        let t2 = p.next_wake().unwrap();
        let work = p.next_work(t2, 8);
        assert_eq!(work.len(), 5);
        assert!(work.iter().all(|w| matches!(w, Work::Poll(_))));
    }

    #[test]
    fn budget_limits_work_and_failures_reschedule() {
        let mut p = plan();
        let t0 = Instant::now();
        p.track(id(1), t0);
        p.track(id(2), t0);
        let t1 = t0 + INITIAL;
        let first = p.next_work(t1, 1);
        assert_eq!(first.len(), 1);
        let Work::Poll(polled) = first[0].clone() else {
            panic!()
        };
        p.on_poll_failed(t1, &polled);
        let second = p.next_work(t1, 8);
        assert_eq!(second.len(), 1, "the failed one waits for its backoff");
        assert_ne!(second[0], Work::Poll(polled));
        p.remove(&polled);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn a_failed_scan_judges_nobody_and_is_retried_soon() {
        let (mut p, t0) = tracking(0..250);
        let t1 = t0 + INITIAL;
        assert_eq!(p.next_work(t1, 8), vec![Work::ScanPage(None)]);
        p.on_scan_page(t1, &running(0..100), cursor(1));
        assert_eq!(p.next_work(t1, 8), vec![Work::ScanPage(cursor(1))]);
        p.on_scan_failed(t1);
        assert_eq!(p.next_wake(), Some(t1 + INITIAL));
        assert!(p.next_work(t1, 8).is_empty());
        assert_eq!(p.next_work(t1 + INITIAL, 8), vec![Work::ScanPage(None)]);
    }
}

#[cfg(test)]
mod differential {
    use super::*;
    use nomic_agent_core::fleet::{Planner, Work as W2};
    use std::time::Duration;

    fn id(n: u64) -> AgentId {
        format!("019abc12-3456-7890-abcd-{n:012x}").parse().unwrap()
    }
    fn conv(w: Work) -> W2 {
        match w {
            Work::ScanPage(c) => W2::ScanPage(c),
            Work::Poll(i) => W2::Poll(i),
        }
    }

    #[test]
    fn same_decisions() {
        #[allow(clippy::disallowed_methods)]
        let t0 = Instant::now();
        let mut checked = 0u64;
        let mut scans = 0;
        for seed in 0..400u64 {
            let mut r = Rng::seed(seed);
            let poll = PollSchedule::default();
            let mut a = Plan::new(poll.clone(), seed);
            let mut b = Planner::new(poll, seed);
            let mut now = t0;
            let mut inflight: Vec<W2> = Vec::new();
            let n_agents = [3u64, 30, 250, 700][r.below(4) as usize];
            let others = r.below(3) * 300;
            let mut page_of_scan: Vec<u64> = Vec::new();
            for step in 0..600 {
                match r.below(10) {
                    0 | 1 => {
                        let n = r.below(n_agents);
                        a.track(id(n), now);
                        b.track(now, id(n));
                    }
                    2..=4 => {
                        let budget = 1 + r.below(20) as usize;
                        let wa: Vec<W2> = a.next_work(now, budget).into_iter().map(conv).collect();
                        let mut wb = Vec::new();
                        while wb.len() < budget {
                            match b.poll_work(now) {
                                Some(w) => wb.push(w),
                                None => break,
                            }
                        }
                        assert_eq!(wa, wb, "seed {seed} step {step}");
                        checked += wa.len() as u64;
                        scans += wa
                            .iter()
                            .filter(|w| matches!(w, W2::ScanPage(Some(_))))
                            .count();
                        inflight.extend(wa);
                    }
                    5..=7 if !inflight.is_empty() => {
                        let i = r.below(inflight.len() as u64) as usize;
                        let w = inflight.swap_remove(i);
                        match w {
                            W2::ScanPage(c) => {
                                if r.below(10) == 0 {
                                    a.on_scan_failed(now);
                                    b.handle_scan_failure(now);
                                    page_of_scan.clear();
                                } else {
                                    let k: u32 =
                                        c.as_deref().map_or(0, |s| s[1..].parse().unwrap());
                                    let total = n_agents + others;
                                    let pages = total.div_ceil(100).max(1) as u32;
                                    let listed: Vec<(AgentId, AgentStatus)> = (u64::from(k) * 100
                                        ..(u64::from(k) * 100 + 100).min(total))
                                        .filter_map(|n| {
                                            if r.below(8) == 0 {
                                                return None;
                                            }
                                            let st = if r.below(20) == 0 {
                                                AgentStatus::Finished
                                            } else {
                                                AgentStatus::Running
                                            };
                                            Some((id(n), st))
                                        })
                                        .collect();
                                    let next = if k + 1 >= pages {
                                        None
                                    } else if r.below(30) == 0 {
                                        c.clone()
                                    } else {
                                        Some(format!("c{}", k + 1))
                                    };
                                    a.on_scan_page(now, &listed, next.clone());
                                    b.handle_scan_page(now, &listed, next);
                                }
                            }
                            W2::Poll(i) => match r.below(6) {
                                0 => {
                                    a.on_poll_failed(now, &i);
                                    b.handle_poll_failure(now, &i);
                                }
                                1 => {
                                    a.remove(&i);
                                    b.untrack(&i);
                                }
                                2 => {
                                    let x = a.on_polled(now, &i, &AgentStatus::Failed);
                                    let y = b.handle_poll(now, &i, &AgentStatus::Failed);
                                    assert_eq!(x, y);
                                }
                                _ => {
                                    let x = a.on_polled(now, &i, &AgentStatus::Running);
                                    let y = b.handle_poll(now, &i, &AgentStatus::Running);
                                    assert_eq!(x, y);
                                }
                            },
                        }
                    }
                    _ => {
                        now += Duration::from_millis(r.below(8000));
                    }
                }
                assert_eq!(a.next_wake(), b.poll_timeout(), "seed {seed} step {step}");
                assert_eq!(a.len(), b.len());
            }
        }
        assert!(checked > 10_000, "{checked}");
        eprintln!("checked {checked} work items, {scans} later scan pages");
    }
}
