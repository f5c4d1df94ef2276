//! The fleet planner in fake time: scenario tests of its scan and poll decisions, and a
//! simulated server (agents finishing at random times, failing requests, slow pages) checking
//! that every agent is reported once, promptly, with the planner's promises kept throughout.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nomic_agent_core::fleet::{Planner, Work};
use nomic_agent_core::policy::poll::PollSchedule;
use nomic_agent_core::rng::Rng;
use nomic_agent_core::wire::{AgentId, AgentStatus};
use proptest::prelude::*;

#[allow(clippy::disallowed_methods)] // one base instant; only offsets matter
fn start() -> Instant {
    Instant::now()
}

/// Drains the planner as a runner with `budget` free slots does: work items until it has none
/// or the slots are full.
fn drain(p: &mut Planner, now: Instant, budget: usize) -> Vec<Work> {
    let mut out = Vec::new();
    while out.len() < budget {
        match p.poll_work(now) {
            Some(w) => out.push(w),
            None => break,
        }
    }
    out
}

// ---- scenarios ------------------------------------------------------------------------------

fn id(n: u32) -> AgentId {
    format!("019abc12-3456-7890-abcd-{n:012x}").parse().unwrap()
}

const CAP: Duration = Duration::from_secs(30);
const INITIAL: Duration = Duration::from_secs(2);

fn plan() -> Planner {
    Planner::new(
        PollSchedule::default()
            .with_initial(INITIAL)
            .with_max(CAP)
            .with_jitter(0.0),
        7,
    )
}

/// A plan tracking the agents numbered `ids`, all since the returned instant.
fn tracking(ids: std::ops::Range<u32>) -> (Planner, Instant) {
    let mut p = plan();
    let t0 = start();
    for n in ids {
        p.track(t0, id(n));
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
fn run_scan(p: &mut Planner, t: Instant, pages: &[Vec<u32>]) -> (Vec<Work>, Instant) {
    let mut now = t;
    let mut work = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let expected = if i == 0 { None } else { cursor(i as u32) };
        let got = drain(p, now, 100);
        assert!(got.contains(&Work::ScanPage(expected)), "page {i}: {got:?}");
        work.extend(got.into_iter().filter(|w| matches!(w, Work::Poll(_))));
        now += Duration::from_secs(1);
        let next = if i + 1 == pages.len() {
            None
        } else {
            cursor(i as u32 + 1)
        };
        p.handle_scan_page(now, &running(page.iter().copied()), next);
    }
    work.extend(drain(p, now, 100));
    (work, now)
}

#[test]
fn few_agents_are_polled_one_by_one() {
    let mut p = plan();
    let t0 = start();
    p.track(t0, id(1));
    assert!(
        drain(&mut p, t0, 8).is_empty(),
        "nothing due before the initial delay"
    );
    assert_eq!(p.poll_timeout(), Some(t0 + INITIAL));
    let t1 = t0 + INITIAL;
    assert_eq!(drain(&mut p, t1, 8), vec![Work::Poll(id(1))]);
    // In flight: not handed out twice.
    assert!(drain(&mut p, t1, 8).is_empty());
    assert!(!p.handle_poll(t1, &id(1), &AgentStatus::Running));
    let wake = p.poll_timeout().unwrap();
    assert!(wake > t1, "rescheduled into the future");
    assert!(p.handle_poll(wake, &id(1), &AgentStatus::Finished));
    assert_eq!(p.len(), 0);
    assert_eq!(p.poll_timeout(), None);
}

#[test]
fn many_agents_are_scanned_and_absentees_confirmed() {
    let (mut p, t0) = tracking(0..250);
    assert!(drain(&mut p, t0, 8).is_empty());
    assert_eq!(p.poll_timeout(), Some(t0 + INITIAL));
    let t1 = t0 + INITIAL;
    // 250 polls vs 3 pages: scan, page by page, never two pages at once.
    assert_eq!(drain(&mut p, t1, 8), vec![Work::ScanPage(None)]);
    assert!(drain(&mut p, t1, 8).is_empty(), "one page at a time");
    p.handle_scan_page(t1, &running(10..110), cursor(1));
    assert!(
        drain(&mut p, t1, 8).contains(&Work::ScanPage(cursor(1))),
        "no page position known yet: nobody is flagged early"
    );
    p.handle_scan_page(t1, &running(110..210), cursor(2));
    assert_eq!(drain(&mut p, t1, 8), vec![Work::ScanPage(cursor(2))]);
    p.handle_scan_page(t1, &running(210..250), None);
    // 0..10 were not listed by a full scan that started after they were tracked.
    assert_eq!(drain(&mut p, t1, 100), polls(0..10));
    for n in 0..10 {
        assert!(p.handle_poll(t1, &id(n), &AgentStatus::Finished));
    }
    assert_eq!(p.len(), 240);
    // The listed agents are left to the scans: no per-agent polls in between.
    assert_eq!(p.poll_timeout(), Some(t1 + CAP));
    assert!(drain(&mut p, t1 + CAP - Duration::from_millis(1), 100).is_empty());
    assert_eq!(drain(&mut p, t1 + CAP, 8), vec![Work::ScanPage(None)]);
}

#[test]
fn scans_are_anchored_to_their_starts() {
    let (mut p, t0) = tracking(0..250);
    let t1 = t0 + INITIAL;
    // A slow scan: 3 pages over 20 s.
    let mut now = t1;
    assert_eq!(drain(&mut p, now, 8), vec![Work::ScanPage(None)]);
    for (i, range) in [0..100, 100..200, 200..250].into_iter().enumerate() {
        if i > 0 {
            assert_eq!(
                drain(&mut p, now, 8),
                vec![Work::ScanPage(cursor(i as u32))]
            );
        }
        now += Duration::from_secs(7);
        let next = if i < 2 { cursor(i as u32 + 1) } else { None };
        p.handle_scan_page(now, &running(range), next);
    }
    // The next scan starts one cap after the previous *start*, not one cap after its end.
    assert_eq!(p.poll_timeout(), Some(t1 + CAP));
    // A scan longer than the cap is followed at once by the next.
    let t2 = t1 + CAP;
    assert_eq!(drain(&mut p, t2, 8), vec![Work::ScanPage(None)]);
    let late = t2 + CAP + Duration::from_secs(5);
    p.handle_scan_page(late, &running(0..250), None);
    assert_eq!(p.poll_timeout(), Some(t2 + CAP));
    assert_eq!(drain(&mut p, late, 8), vec![Work::ScanPage(None)]);
}

#[test]
fn an_agent_missing_from_its_page_is_confirmed_before_the_scan_ends() {
    let (mut p, t0) = tracking(0..500);
    let pages: Vec<Vec<u32>> = (0..5).map(|i| (i * 100..i * 100 + 100).collect()).collect();
    let (work, end) = run_scan(&mut p, t0 + INITIAL, &pages);
    assert!(work.is_empty(), "{work:?}");
    // Second scan: agent 50 (page 0) and agent 450 (page 4) are gone.
    let t2 = p.poll_timeout().unwrap();
    assert!(t2 > end);
    assert_eq!(drain(&mut p, t2, 8), vec![Work::ScanPage(None)]);
    p.handle_scan_page(t2, &running((0..100).filter(|n| *n != 50)), cursor(1));
    // One page of slack: page 1 could hold agents pushed down by newer launches.
    assert_eq!(drain(&mut p, t2, 8), vec![Work::ScanPage(cursor(1))]);
    p.handle_scan_page(t2, &running(100..200), cursor(2));
    // Pages 0 and 1 done without agent 50: confirmed now, three pages before the end.
    assert_eq!(
        drain(&mut p, t2, 8),
        vec![Work::Poll(id(50)), Work::ScanPage(cursor(2))]
    );
    assert!(p.handle_poll(t2, &id(50), &AgentStatus::Finished));
    p.handle_scan_page(t2, &running(200..300), cursor(3));
    p.handle_scan_page(t2, &running(300..400), cursor(4));
    assert_eq!(drain(&mut p, t2, 8), vec![Work::ScanPage(cursor(4))]);
    p.handle_scan_page(t2, &running(400..450), None);
    assert_eq!(drain(&mut p, t2, 100), polls(450..500));
}

#[test]
fn a_wrong_guess_costs_one_poll_and_no_report() {
    let (mut p, t0) = tracking(0..300);
    let pages: Vec<Vec<u32>> = (0..3).map(|i| (i * 100..i * 100 + 100).collect()).collect();
    run_scan(&mut p, t0 + INITIAL, &pages);
    let t2 = p.poll_timeout().unwrap();
    assert_eq!(drain(&mut p, t2, 8), vec![Work::ScanPage(None)]);
    // Many newer agents pushed ours two pages down.
    p.handle_scan_page(t2, &running(1000..1100), cursor(1));
    p.handle_scan_page(t2, &running(1100..1200), cursor(2));
    let work = drain(&mut p, t2, 200);
    let flagged: Vec<_> = work
        .iter()
        .filter(|w| **w != Work::ScanPage(cursor(2)))
        .collect();
    assert_eq!(flagged.len(), 100, "page 0's agents look gone");
    for n in 0..100 {
        assert!(!p.handle_poll(t2, &id(n), &AgentStatus::Running));
    }
    // Their poll showed them active during this scan: its end does not judge them again.
    p.handle_scan_page(t2, &running(100..300), None);
    assert!(drain(&mut p, t2, 200).is_empty());
    assert_eq!(p.len(), 300);
}

#[test]
fn agents_tracked_during_a_scan_are_not_judged_by_it() {
    let (mut p, t0) = tracking(0..250);
    let t1 = t0 + INITIAL;
    assert_eq!(drain(&mut p, t1, 8), vec![Work::ScanPage(None)]);
    p.track(t1, id(999));
    p.handle_scan_page(t1, &running(0..250), None);
    assert!(
        drain(&mut p, t1, 8).is_empty(),
        "999 was not expected in the list"
    );
    // It is polled on its own schedule until a scan lists it.
    assert_eq!(p.poll_timeout(), Some(t1 + INITIAL));
    assert_eq!(drain(&mut p, t1 + INITIAL, 8), polls([999]));
}

#[test]
fn a_scan_costing_more_than_polls_is_not_used() {
    let mut p = plan();
    let t0 = start();
    p.track(t0, id(1));
    p.track(t0, id(2));
    // Two due agents vs one page (plus the polls of any that finished): poll.
    let t1 = t0 + INITIAL;
    let work = drain(&mut p, t1, 8);
    assert_eq!(work.len(), 2);
    assert!(work.iter().all(|w| matches!(w, Work::Poll(_))));
}

#[test]
fn other_users_active_agents_make_scans_dearer() {
    let (mut p, t0) = tracking(0..5);
    let t1 = t0 + INITIAL;
    assert_eq!(drain(&mut p, t1, 8), vec![Work::ScanPage(None)]);
    // The scan listed 1,000 active agents (10 pages): 5 polls are cheaper from now on.
    p.handle_scan_page(t1, &running(0..1000), None);
    let t2 = p.poll_timeout().unwrap();
    let work = drain(&mut p, t2, 8);
    assert_eq!(work.len(), 5);
    assert!(work.iter().all(|w| matches!(w, Work::Poll(_))));
}

#[test]
fn budget_limits_work_and_failures_reschedule() {
    let mut p = plan();
    let t0 = start();
    p.track(t0, id(1));
    p.track(t0, id(2));
    let t1 = t0 + INITIAL;
    let first = drain(&mut p, t1, 1);
    assert_eq!(first.len(), 1);
    let Work::Poll(polled) = first[0].clone() else {
        panic!()
    };
    p.handle_poll_failure(t1, &polled);
    let second = drain(&mut p, t1, 8);
    assert_eq!(second.len(), 1, "the failed one waits for its backoff");
    assert_ne!(second[0], Work::Poll(polled));
    p.untrack(&polled);
    assert_eq!(p.len(), 1);
}

#[test]
fn a_failed_scan_judges_nobody_and_is_retried_soon() {
    let (mut p, t0) = tracking(0..250);
    let t1 = t0 + INITIAL;
    assert_eq!(drain(&mut p, t1, 8), vec![Work::ScanPage(None)]);
    p.handle_scan_page(t1, &running(0..100), cursor(1));
    assert_eq!(drain(&mut p, t1, 8), vec![Work::ScanPage(cursor(1))]);
    p.handle_scan_failure(t1);
    assert_eq!(p.poll_timeout(), Some(t1 + INITIAL));
    assert!(drain(&mut p, t1, 8).is_empty());
    assert_eq!(drain(&mut p, t1 + INITIAL, 8), vec![Work::ScanPage(None)]);
}

// ---- the simulated server ---------------------------------------------------------------------

/// One simulated run: our agents launched over the first minute and finishing later, other
/// clients' agents that stay active, requests that take a while and sometimes fail.
#[derive(Debug, Clone)]
struct World {
    /// Our agents: (launched, finished) as offsets from the start.
    ours: Vec<(Duration, Duration)>,
    /// Other clients' active agents, listed after ours (they are older).
    others: u32,
    /// Request slots of the runner.
    concurrency: usize,
    /// Each request takes between 1 ms and this long.
    max_latency: Duration,
    /// Chance in a thousand that a request fails.
    fault_per_mille: u64,
    /// A list shows an agent finished less than this ago, with its terminal status.
    list_lag: Duration,
    seed: u64,
}

fn world() -> impl Strategy<Value = World> {
    (
        prop::collection::vec((0u64..60_000, 1_000u64..300_000), 1..400),
        prop_oneof![Just(0u32), 50u32..600],
        1usize..32,
        1u64..2_000,
        prop_oneof![Just(0u64), 1u64..200],
        prop_oneof![Just(0u64), 1u64..3_000],
        any::<u64>(),
    )
        .prop_map(
            |(ours, others, concurrency, latency, fault, lag, seed)| World {
                ours: ours
                    .into_iter()
                    .map(|(l, run)| (Duration::from_millis(l), Duration::from_millis(l + run)))
                    .collect(),
                others,
                concurrency,
                max_latency: Duration::from_millis(latency),
                fault_per_mille: fault,
                list_lag: Duration::from_millis(lag),
                seed,
            },
        )
}

fn ours(n: u32) -> AgentId {
    id(n)
}

fn theirs(n: u32) -> AgentId {
    format!("019abc12-3456-7890-ffff-{n:012x}").parse().unwrap()
}

/// What a run produced.
struct Run {
    /// When each of our agents was reported (offset from the start).
    reported: Vec<Option<Duration>>,
    requests: usize,
}

/// Runs the planner against `w` the way the SDK's runner does, checking the planner's
/// promises at every step; fails the test on the first broken one.
fn simulate(w: &World) -> Run {
    let mut p = Planner::new(PollSchedule::default(), w.seed);
    let mut rng = Rng::seed(w.seed ^ 0x5eed);
    let t0 = start();
    let at = |d: Duration| t0 + d;
    let mut launches: Vec<(Duration, u32)> = (0u32..)
        .zip(&w.ours)
        .map(|(n, (launched, _))| (*launched, n))
        .collect();
    launches.sort_unstable_by(|a, b| b.cmp(a)); // popped from the back, earliest first
    let mut reported: Vec<Option<Duration>> = vec![None; w.ours.len()];
    let index: BTreeMap<AgentId, usize> = (0..w.ours.len()).map(|n| (ours(n as u32), n)).collect();
    // (completes at, work), the active list as of completion time answers a scan page.
    let mut in_flight: Vec<(Duration, Work)> = Vec::new();
    // The cursor the next page of the running scan must carry (`None`: no scan mid-way).
    let mut scan_cursor: Option<String> = None;
    let mut requests = 0;
    let mut now = Duration::ZERO;
    let horizon = Duration::from_secs(3 * 3600);

    loop {
        // 1. Start work while a slot is free.
        while in_flight.len() < w.concurrency {
            let Some(work) = p.poll_work(at(now)) else {
                break;
            };
            match &work {
                Work::Poll(id) => {
                    assert!(p.is_tracked(id), "{now:?}: poll of an untracked {id}");
                    assert!(
                        !in_flight.iter().any(|(_, w)| w == &work),
                        "{now:?}: {id} handed out twice"
                    );
                }
                Work::ScanPage(cursor) => {
                    assert!(
                        !in_flight
                            .iter()
                            .any(|(_, w)| matches!(w, Work::ScanPage(_))),
                        "{now:?}: two scan pages at once"
                    );
                    assert_eq!(cursor, &scan_cursor, "{now:?}: pages out of order");
                }
            }
            requests += 1;
            let latency = Duration::from_millis(1 + rng.below(w.max_latency.as_millis() as u64));
            in_flight.push((now + latency, work));
        }
        if launches.is_empty() && p.is_empty() && in_flight.is_empty() {
            break;
        }
        // 2. Sleep until the planner's timeout, a completion or a launch.
        let timeout = p.poll_timeout().map(|t| t.duration_since(t0));
        if let Some(t) = timeout
            && t <= now
        {
            assert_eq!(
                in_flight.len(),
                w.concurrency,
                "{now:?}: poll_timeout is past, slots are free, yet no work"
            );
        }
        let next = in_flight
            .iter()
            .map(|(t, _)| *t)
            .chain(launches.last().map(|(t, _)| *t))
            .chain(timeout.filter(|t| *t > now))
            .min()
            .expect("something to wait for: the planner would hang");
        now = now.max(next);
        assert!(now < horizon, "not done after {horizon:?}");

        // 3. Feed back what happened by then.
        while let Some(&(t, n)) = launches.last()
            && t <= now
        {
            launches.pop();
            p.track(at(now), ours(n));
        }
        in_flight.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
        while let Some((t, _)) = in_flight.last()
            && *t <= now
        {
            let (_, work) = in_flight.pop().expect("checked");
            let failed = rng.below(1000) < w.fault_per_mille;
            match work {
                Work::ScanPage(_) if failed => {
                    scan_cursor = None;
                    p.handle_scan_failure(at(now));
                }
                Work::ScanPage(cursor) => {
                    let from = cursor.map_or(0, |c| c[1..].parse::<usize>().expect("ours"));
                    let list = active_list(w, now);
                    let page: Vec<_> = list.iter().skip(from).take(100).cloned().collect();
                    let more = from + 100 < list.len();
                    scan_cursor = more.then(|| format!("c{}", from + 100));
                    p.handle_scan_page(at(now), &page, scan_cursor.clone());
                }
                Work::Poll(id) if failed => p.handle_poll_failure(at(now), &id),
                Work::Poll(id) => {
                    let n = index[&id];
                    let status = if now >= w.ours[n].1 {
                        AgentStatus::Finished
                    } else {
                        AgentStatus::Running
                    };
                    if p.handle_poll(at(now), &id, &status) {
                        assert!(!p.is_tracked(&id), "a terminal agent stays tracked");
                        assert_eq!(reported[n], None, "{id} reported twice");
                        reported[n] = Some(now);
                    }
                }
            }
        }
    }
    Run { reported, requests }
}

/// The user's agents the server lists at `now`, newest first: ours launched and running (or
/// finished within the list's lag), then the other clients' older ones.
fn active_list(w: &World, now: Duration) -> Vec<(AgentId, AgentStatus)> {
    let mut mine: Vec<(Duration, u32)> = (0u32..)
        .zip(&w.ours)
        .filter(|(_, (launched, finished))| *launched <= now && now < *finished + w.list_lag)
        .map(|(n, (launched, _))| (*launched, n))
        .collect();
    mine.sort_unstable_by(|a, b| b.cmp(a));
    mine.into_iter()
        .map(|(_, n)| {
            let status = if now >= w.ours[n as usize].1 {
                AgentStatus::Finished
            } else {
                AgentStatus::Running
            };
            (ours(n), status)
        })
        .chain((0..w.others).map(|n| (theirs(n), AgentStatus::Running)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Whatever the fleet size, other clients' agents, concurrency, latency and failures: the
    /// planner never hands out an agent twice, an untracked agent, or two scan pages at once,
    /// never leaves free slots idle with a past timeout, and every agent is reported exactly
    /// once, after it finished.
    #[test]
    fn every_agent_is_reported_once(w in world()) {
        let run = simulate(&w);
        for (n, (_, finished)) in w.ours.iter().enumerate() {
            let at = run.reported[n].expect("reported");
            prop_assert!(at >= *finished, "agent {n} reported at {at:?} before finishing at {finished:?}");
        }
    }

    /// Without failures, an agent is reported within one poll cap of finishing, plus the
    /// request round trips a scan, the scan before it and the queued confirmations can take.
    #[test]
    fn detection_lag_is_bounded(w in world().prop_map(|w| World { fault_per_mille: 0, ..w })) {
        let run = simulate(&w);
        let n = w.ours.len() as u32;
        let pages = (n + w.others).div_ceil(100);
        let queued = n.div_ceil(w.concurrency as u32);
        let bound = Duration::from_secs(30) + w.max_latency * (4 * pages + 3 * queued + 4);
        for (i, (_, finished)) in w.ours.iter().enumerate() {
            let lag = run.reported[i].expect("reported") - *finished;
            prop_assert!(lag <= bound, "agent {i}: lag {lag:?} > {bound:?} ({} requests)", run.requests);
        }
    }
}

#[test]
fn scans_make_a_big_fleet_cheap() {
    // 1,000 agents running for ten minutes. Polled one by one (2 s doubling to 30 s) they
    // would cost about 23 requests each; scanned, a 10-page scan per 30 s plus one
    // confirmation per agent.
    let w = World {
        ours: vec![(Duration::ZERO, Duration::from_secs(600)); 1000],
        others: 0,
        concurrency: 16,
        max_latency: Duration::from_millis(200),
        fault_per_mille: 0,
        list_lag: Duration::ZERO,
        seed: 1,
    };
    let run = simulate(&w);
    let scans = 600 / 30 + 1;
    assert!(
        run.requests <= 1000 + scans * 10,
        "{} requests",
        run.requests
    );
    assert!(run.reported.iter().all(Option::is_some));
}
