//! What the planner hands out: one request to start, and the query a scan page is.

use crate::wire::{AgentId, AgentStatus, ListAgentsQuery};

/// Page size of scans (the API's maximum).
pub const SCAN_PAGE: u32 = 100;

/// One request the runner should start now, from [`Planner::poll_work`](super::Planner::poll_work).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// One page of `GET /agents?status=waiting,running,awaiting_tool&limit=100` from the given
    /// cursor (`None`: the first page); [`scan_query`] builds it. Its outcome goes back through
    /// [`handle_scan_page`](super::Planner::handle_scan_page) or
    /// [`handle_scan_failure`](super::Planner::handle_scan_failure).
    ScanPage(Option<String>),
    /// `GET /agents/{id}`. Its outcome goes back through
    /// [`handle_poll`](super::Planner::handle_poll),
    /// [`handle_poll_failure`](super::Planner::handle_poll_failure) or
    /// [`untrack`](super::Planner::untrack).
    Poll(AgentId),
}

/// The query of a [`Work::ScanPage`]: the active statuses only (the planner presumes an agent
/// missing from them terminal), [`SCAN_PAGE`] per page.
///
/// ```
/// use nomic_agent_core::fleet::{SCAN_PAGE, scan_query};
/// let q = scan_query(Some("c1".to_owned()));
/// assert_eq!((q.limit, q.cursor.as_deref()), (Some(SCAN_PAGE), Some("c1")));
/// assert!(q.status.iter().all(|s| !s.is_terminal()));
/// ```
pub fn scan_query(cursor: Option<String>) -> ListAgentsQuery {
    let q = ListAgentsQuery::new()
        .limit(SCAN_PAGE)
        .status(AgentStatus::Waiting)
        .status(AgentStatus::Running)
        .status(AgentStatus::AwaitingTool);
    match cursor {
        Some(c) => q.cursor(c),
        None => q,
    }
}
