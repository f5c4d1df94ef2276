//! Turn tickets in the CLI: `--no-wait` prints the turn's ticket, and `wait --ticket` in
//! another process waits on that very turn.

mod common;

use common::{Emu, SECRET};

#[test]
fn followup_no_wait_ticket_then_wait_ticket_in_another_process() {
    // The server shows the previous turn's `finished` for a long while after the follow-up.
    let e = Emu::with(|c| c.lifecycle.stale_window_ms = 30_000);
    let id = e.finished("First");
    let out = e.run(&["followup", &id, "Second", "--no-wait", "--json"]);
    out.code(0);
    let ticket = out.json()["ticket"]
        .as_str()
        .expect("a ticket in --json")
        .to_owned();
    assert!(ticket.starts_with("t1."), "{ticket}");

    let w = e.run(&["wait", "--ticket", &ticket, "--json"]);
    w.code(0);
    assert_eq!(w.json()["agentId"], id.as_str());
    let answer = w.json()["answer"].as_str().unwrap_or_default().to_owned();
    assert!(answer.contains("Second"), "{w}");
    assert!(!answer.contains("First"), "{w}");

    // Human mode: the id alone on stdout, a ready-to-paste wait line on stderr.
    let h = e.run(&["followup", &id, "Third", "--no-wait"]);
    h.code(0);
    assert_eq!(h.stdout.trim(), id);
    let line = h
        .stderr
        .lines()
        .find_map(|l| l.split_once("nomic-agent wait --ticket ").map(|(_, t)| t))
        .unwrap_or_else(|| panic!("no wait line: {h}"))
        .trim()
        .to_owned();
    let w = e.run(&["wait", "--ticket", &line]);
    w.code(0);
    assert!(w.stdout.contains("Third"), "{w}");
}

#[test]
fn run_no_wait_prints_a_ticket_and_bad_tickets_are_usage_errors() {
    let e = Emu::start();
    let out = e.run(&["run", "Hello there", "--no-wait", "--json"]);
    out.code(0);
    let ticket = out.json()["ticket"].as_str().expect("ticket").to_owned();
    let w = e.run(&["wait", "--ticket", &ticket, "--json"]);
    w.code(0);
    assert!(
        w.json()["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("Hello there"),
        "{w}"
    );

    for bad in ["nonsense", "t9.abc", &ticket[..ticket.len() - 4]] {
        let out = e.run(&["wait", "--ticket", bad]);
        out.code(2);
        assert!(out.stderr.contains("--ticket"), "{out}");
    }
    // `wait ID` keeps working; an id and a ticket together is a usage error.
    let id = out.json()["agentId"].as_str().unwrap().to_owned();
    e.run(&["wait", &id]).code(0);
    e.run(&["wait", &id, "--ticket", &ticket]).code(2);
}

#[test]
fn wait_ticket_inside_the_stale_window_gets_the_new_turn() {
    // 2 s of stale `finished` (scaled), shorter than the CLI's 5 s follow-up window: the
    // `wait` process starts while the server still shows the first turn as the latest.
    let e = Emu::with(|c| c.lifecycle.stale_window_ms = 200_000);
    let id = e.finished("First");
    let ticket = e.rt.block_on(async {
        let client = nomic_agent::Client::builder()
            .api_key(SECRET)
            .base_url(e.base_url())
            .build()
            .unwrap();
        let agent = client
            .follow_up(id.parse().unwrap(), "Second")
            .await
            .unwrap();
        agent.ticket().unwrap().to_string()
    });
    let w = e.run(&["wait", "--ticket", &ticket, "--json"]);
    w.code(0);
    let answer = w.json()["answer"].as_str().unwrap_or_default().to_owned();
    assert!(answer.contains("Second"), "{w}");
}
