//! Scan bookkeeping: the running paged listing of the active agents, and the rules that say
//! when scans pay off, which agents they watch and which absent agents they flag.

use super::tracked::Tracked;
use super::work::SCAN_PAGE;

/// Pages a scan may go past an agent's last known page before the agent is presumed gone.
const PAGE_SLACK: u32 = 1;

/// The scan in progress.
#[derive(Debug)]
pub(super) struct Scan {
    /// This scan's number.
    pub(super) epoch: u32,
    /// Pages fetched so far.
    pub(super) pages_done: u32,
    /// Cursor of the next page (`None` before the first page).
    pub(super) cursor: Option<String>,
    /// A page request is out (never more than one: each page needs the previous cursor).
    pub(super) in_flight: bool,
    /// Active agents listed so far (ours and other clients').
    pub(super) listed: usize,
}

impl Scan {
    /// Scan number `epoch`, its first page going out now.
    pub(super) fn start(epoch: u32) -> Scan {
        Scan {
            epoch,
            pages_done: 0,
            cursor: None,
            in_flight: true,
            listed: 0,
        }
    }

    /// A page listing `listed` agents arrived, `next` being the following cursor. Returns the
    /// page's number and whether it was the last.
    pub(super) fn page_arrived(&mut self, listed: usize, next: Option<String>) -> (u32, bool) {
        let page = self.pages_done;
        self.pages_done = self.pages_done.saturating_add(1);
        self.in_flight = false;
        self.listed += listed;
        // A server repeating its cursor would loop forever: treat it as the last page.
        let last = next.is_none() || next == self.cursor;
        self.cursor = next;
        (page, last)
    }

    /// Whether this scan, now that it has fetched `pages_done` pages (all of them when `last`),
    /// presumes `t` terminal for not having listed it: `t` was last seen active before the scan
    /// started, and either the scan is complete or it went [`PAGE_SLACK`] pages past the page
    /// that listed `t` last time (lists are ordered, so an agent stays on or near its page).
    pub(super) fn presumes_gone(&self, t: &Tracked, last: bool) -> bool {
        if t.busy || t.epoch >= self.epoch {
            return false;
        }
        let passed = t
            .page
            .is_some_and(|p| p.saturating_add(PAGE_SLACK) < self.pages_done);
        last || passed
    }
}

/// Requests one full scan costs: the active agents the last full scan listed (ours and
/// others') or, if more, those tracked, one page per [`SCAN_PAGE`].
pub(super) fn cost(last_scan_total: usize, tracked: usize) -> usize {
    last_scan_total
        .max(tracked)
        .div_ceil(SCAN_PAGE as usize)
        .max(1)
}

/// Scans replace per-agent polls once they clearly cost less: every agent is polled at least
/// once per cap, a scan every cap costs its pages plus a poll per agent that left.
pub(super) fn pays_off(tracked: usize, cost: usize) -> bool {
    tracked > 2 * cost
}

/// Whether `t` is left to per-agent polling (as opposed to scans) right now.
pub(super) fn polled_individually(t: &Tracked, scan: Option<&Scan>, scan_mode: bool) -> bool {
    if t.busy {
        return false;
    }
    if !scan_mode {
        return true;
    }
    // Listed by a scan: the scans watch it. Active before the running scan started: that scan
    // will list it or flag it.
    t.page.is_none() && scan.is_none_or(|s| t.epoch >= s.epoch)
}
