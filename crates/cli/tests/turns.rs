//! `run`, `followup` and `wait` against an emulator, and every exit code.

mod common;

use common::{Emu, Out, asset, keys};
use nomic_agent_emulator::{Fault, FaultRule};

#[test]
fn run_json_is_one_document_with_the_contract_keys() {
    let e = Emu::start();
    let out = e.run(&["run", "Summarize the report", "--json"]);
    out.code(0);
    let doc = out.json();
    assert_eq!(
        keys(&doc),
        ["agentId", "answer", "artifacts", "status", "url"]
    );
    assert_eq!(doc["status"], "finished");
    let id = doc["agentId"].as_str().unwrap();
    assert!(
        doc["answer"]
            .as_str()
            .unwrap()
            .contains("Summarize the report")
    );
    assert!(
        doc["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/assistant/{id}"))
    );
    let arts = doc["artifacts"].as_array().unwrap();
    assert!(!arts.is_empty(), "{out}");
    for a in arts {
        assert_eq!(keys(a), ["id", "title", "type"]);
    }
}

#[test]
fn run_human_prints_the_answer_statuses_and_saves_artifacts() {
    let e = Emu::start();
    let out = e.run(&["run", "Say hello"]);
    out.code(0);
    assert!(out.stdout.contains("You asked: \"Say hello\""), "{out}");
    // Not a terminal: plain status lines with elapsed time, ending in `finished`.
    assert!(
        out.stderr.contains("s] waiting") || out.stderr.contains("s] running"),
        "{out}"
    );
    assert!(out.stderr.contains("s] finished"), "{out}");
    assert!(out.stderr.contains("/assistant/"), "{out}");
    let saved: Vec<_> = walk(&e.dir.path().join("nomic-artifacts"));
    assert!(saved.iter().any(|p| p.ends_with("Answer.md")), "{saved:?}");
    let answer =
        std::fs::read_to_string(saved.iter().find(|p| p.ends_with("Answer.md")).unwrap()).unwrap();
    assert!(answer.contains("Say hello"));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn run_uploads_files_and_attaches_images() {
    let e = Emu::start();
    let photo = asset("site-photo.png");
    let report = asset("inspection-report.md");
    let out = e.run(&[
        "run",
        "Check the site",
        "--image",
        photo.to_str().unwrap(),
        "--file",
        report.to_str().unwrap(),
        "--json",
    ]);
    out.code(0);
    let answer = out.json()["answer"].as_str().unwrap().to_owned();
    assert!(answer.contains("inspection-report.md"), "{answer}");
    assert!(answer.contains("Images: 1 (image/png)"), "{answer}");
    let c = e.emu().counters();
    assert_eq!(
        c.requests_per_route.get("POST /files/upload"),
        Some(&1),
        "{c:?}"
    );
}

#[test]
fn run_fills_workflow_slots_from_paths() {
    let e = Emu::start();
    let wfs = e.run(&["workflows", "--json"]);
    wfs.code(0);
    let wfs = wfs.json();
    let slotted = wfs
        .as_array()
        .unwrap()
        .iter()
        .find(|w| !w["inputs"].as_array().unwrap().is_empty())
        .expect("a file-slot workflow is seeded");
    let wf = slotted["id"].as_str().unwrap();
    let report = asset("inspection-report.md");
    let mut args = vec![
        "run".to_owned(),
        String::new(),
        "--workflow".into(),
        wf.into(),
    ];
    for slot in slotted["inputs"].as_array().unwrap() {
        args.push("--input".into());
        args.push(format!(
            "{}={}",
            slot["name"].as_str().unwrap(),
            report.display()
        ));
    }
    args.push("--json".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = e.run(&args);
    out.code(0);
    let answer = out.json()["answer"].as_str().unwrap().to_owned();
    assert!(answer.contains("Workflow:"), "{answer}");
    assert!(answer.contains("inspection-report.md"), "{answer}");

    // A slot the workflow does not declare is refused before anything is uploaded.
    let before = e.emu().counters();
    let bad = e.run(&[
        "run",
        "",
        "--workflow",
        wf,
        "--input",
        &format!("nosuchslot={}", report.display()),
    ]);
    bad.code(2);
    assert!(bad.stderr.contains("nosuchslot"), "{bad}");
    let after = e.emu().counters();
    assert_eq!(
        before.requests_per_route.get("POST /files/upload"),
        after.requests_per_route.get("POST /files/upload")
    );
    assert_eq!(
        before.agents_created_per_user,
        after.agents_created_per_user
    );
}

#[test]
fn followup_answers_the_new_prompt_and_wait_reports_the_turn() {
    let e = Emu::start();
    let id = e.finished("First question");
    let out = e.run(&["followup", &id, "Second question", "--json"]);
    out.code(0);
    let doc = out.json();
    assert_eq!(
        keys(&doc),
        ["agentId", "answer", "artifacts", "status", "url"]
    );
    assert_eq!(doc["agentId"], id.as_str());
    let answer = doc["answer"].as_str().unwrap();
    assert!(
        answer.contains("Turn 2") && answer.contains("Second question"),
        "{answer}"
    );

    let w = e.run(&["wait", &id, "--json"]);
    w.code(0);
    assert_eq!(w.json()["status"], "finished");
    assert!(
        w.json()["answer"]
            .as_str()
            .unwrap()
            .contains("Second question")
    );

    // Human mode: the answer alone on stdout.
    let h = e.run(&["followup", &id, "Third question"]);
    h.code(0);
    assert!(
        h.stdout.contains("Turn 3") && h.stdout.contains("Third question"),
        "{h}"
    );
}

#[test]
fn followup_no_wait_returns_once_the_new_turn_is_visible() {
    // A stale window (300 ms here) much longer than a turn: a `wait` right after a `--no-wait`
    // follow-up must still get the new turn's answer, never the previous one.
    let e = Emu::with(|c| c.lifecycle.stale_window_ms = 30_000);
    let id = e.finished("First");
    let out = e.run(&["followup", &id, "Second", "--no-wait", "--json"]);
    out.code(0);
    assert_eq!(out.json()["agentId"], id.as_str());
    assert_eq!(e.emu().counters().follow_ups_per_agent.get(&id), Some(&1));
    let w = e.run(&["wait", &id, "--json"]);
    w.code(0);
    assert!(
        w.json()["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("Second"),
        "{w}"
    );
}

#[test]
fn exit_1_when_the_agent_fails() {
    let e = Emu::start();
    let out = e.run(&["run", "[fail] break please", "--json"]);
    out.code(1);
    assert_eq!(out.json()["status"], "failed");
    assert!(out.stderr.contains("fail"), "{out}");
    let human = e.run(&["run", "[fail] again"]);
    human.code(1);
    assert!(human.stderr.contains("failed"), "{human}");
}

#[test]
fn exit_2_for_usage_errors_before_anything_is_sent() {
    let e = Emu::start();
    let text = e.dir.path().join("notes.png");
    std::fs::write(&text, "not an image").unwrap();
    let missing = e.dir.path().join("missing.pdf");
    let cases: Vec<Vec<String>> = vec![
        vec!["run".into(), "   ".into()],
        vec![
            "run".into(),
            "x".into(),
            "--image".into(),
            text.display().to_string(),
        ],
        vec![
            "run".into(),
            "x".into(),
            "--file".into(),
            missing.display().to_string(),
        ],
        vec!["run".into(), "x".into(), "--file-id".into(), "nope".into()],
        vec![
            "run".into(),
            "x".into(),
            "--input".into(),
            "slot=nope".into(),
        ],
        vec!["status".into(), "not-a-uuid".into()],
        vec!["list".into(), "--status".into(), "done".into()],
        vec!["list".into(), "--limit".into(), "0".into()],
        vec![
            "files".into(),
            "search".into(),
            "x".into(),
            "--limit".into(),
            "99".into(),
        ],
        vec![
            "--poll-initial".into(),
            "2".into(),
            "--poll-max".into(),
            "1".into(),
            "workflows".into(),
        ],
        vec!["--timeout".into(), "-1".into(), "workflows".into()],
        vec!["frobnicate".into()],
    ];
    for args in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = e.run(&args);
        out.code(2);
        assert!(!out.stderr.trim().is_empty(), "{args:?}: no message\n{out}");
    }
    assert_eq!(e.requests(), 0, "{:?}", e.emu().counters());

    // --json keeps the one-document rule for errors too.
    let out = e.run(&["status", "not-a-uuid", "--json"]);
    out.code(2);
    assert_eq!(out.json()["error"]["exitCode"], 2);
}

#[test]
fn exit_2_when_the_server_rejects_the_request() {
    let e = Emu::start();
    // Well-formed but unknown: only the server can tell (400, inaccessible files).
    let out = e.run(&[
        "run",
        "read this",
        "--file-id",
        "019abc12-3456-7890-abcd-ef1234567890",
    ]);
    out.code(2);
    assert!(out.stderr.contains("invalid request"), "{out}");
    assert_eq!(
        e.emu().counters().agents_created_per_user.get(common::USER),
        None
    );
}

#[test]
fn exit_2_for_a_base_url_without_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = common::bare(dir.path());
    c.env("NOMIC_BASE_URL", "https://acme.nomic.ai/api/v0")
        .args(["run", "hello"]);
    let out = Out::of(c);
    out.code(2);
    assert!(out.stderr.contains("NOMIC_API_KEY"), "{out}");
}

#[test]
fn exit_3_when_the_agent_is_stopped() {
    let e = Emu::start();
    let id = e.launch("[never] keep going");
    let stop = e.run(&["stop", &id, "--json"]);
    stop.code(0);
    assert_eq!(stop.json()["id"], id.as_str());
    let w = e.run(&["wait", &id, "--json"]);
    w.code(3);
    assert_eq!(w.json()["status"], "stopped");
}

#[test]
fn exit_4_for_api_errors() {
    let e = Emu::start();
    // Not found.
    let out = e.run(&["status", "019abc12-3456-7890-abcd-ef1234567890"]);
    out.code(4);
    assert!(out.stderr.contains("not found"), "{out}");
    // A wrong key (401).
    let mut c = common::bare(e.dir.path());
    c.args([
        "--base-url",
        &e.base_url(),
        "--api-key",
        "npk_wrong_key",
        "workflows",
    ]);
    let out = Out::of(c);
    out.code(4);
    assert!(out.stderr.contains("401"), "{out}");
    // A follow-up on an active agent (409).
    let id = e.launch("[never] busy");
    let out = e.run(&["followup", &id, "too soon"]);
    out.code(4);
    // Spend limit.
    e.emu().set_spend_cap(common::USER, Some(0), true);
    let out = e.run(&["run", "over budget", "--json"]);
    out.code(4);
    assert_eq!(out.json()["error"]["kind"], "api");
    assert!(out.stderr.contains("spend"), "{out}");
}

#[test]
fn exit_5_for_transport_errors_and_timeouts() {
    let e = Emu::start();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = common::bare(e.dir.path());
    c.args([
        "--base-url",
        &format!("http://127.0.0.1:{port}/api/v0"),
        "--api-key",
        common::SECRET,
        "--timeout",
        "0.5",
        "status",
        "019abc12-3456-7890-abcd-ef1234567890",
    ]);
    let out = Out::of(c);
    out.code(5);
    // A wait that outlives --timeout.
    let id = e.launch("[never] forever");
    let out = e.run(&["--timeout", "0.3", "wait", &id]);
    out.code(5);
    assert!(out.stderr.contains("timed out"), "{out}");
}

#[test]
fn exit_6_when_the_launch_outcome_is_unknown() {
    let e = Emu::start();
    e.emu()
        .set_faults(vec![FaultRule {
            route: "/agents".into(),
            method: Some("POST".into()),
            fault: Fault::ResetAfter,
            probability: None,
            count: Some(1),
        }])
        .unwrap();
    let out = e.run(&["run", "maybe created", "--json"]);
    out.code(6);
    assert_eq!(out.json()["error"]["exitCode"], 6);
    assert!(out.stderr.contains("nomic-agent list"), "{out}");
    // The agent was in fact created once, and not a second time.
    assert_eq!(
        e.emu().counters().agents_created_per_user.get(common::USER),
        Some(&1)
    );
}

#[test]
fn a_wait_ended_by_a_429_names_the_wait_the_server_asked_for() {
    let e = Emu::start();
    let id = e.launch("[never] rate limited");
    // Every poll is refused for 90 s: longer than --timeout, so the wait ends on the 429.
    e.emu()
        .set_faults(vec![FaultRule {
            route: "/agents/{id}".into(),
            method: Some("GET".into()),
            fault: Fault::RateLimit {
                retry_after_secs: 90,
                http_date: false,
            },
            probability: None,
            count: None,
        }])
        .unwrap();
    for json in [false, true] {
        let mut args = vec!["--timeout", "5", "wait", id.as_str()];
        if json {
            args.push("--json");
        }
        let out = e.run(&args);
        out.code(4);
        assert!(
            out.stderr.contains("rate limited (429)")
                && out.stderr.contains("the server asked to wait 90 s"),
            "{out}"
        );
        if json {
            let doc = out.json();
            assert_eq!(doc["error"]["kind"], "api", "{out}");
            let message = doc["error"]["message"].as_str().unwrap();
            assert!(message.contains("the server asked to wait 90 s"), "{out}");
        }
    }
}

#[test]
fn exit_5_names_the_last_error_when_an_outage_outlasts_the_timeout() {
    let e = Emu::start();
    let id = e.launch("[never] through an outage");
    e.emu()
        .set_faults(vec![FaultRule {
            route: "/agents/{id}".into(),
            method: Some("GET".into()),
            fault: Fault::ServerError { status: 503 },
            probability: None,
            count: None,
        }])
        .unwrap();
    for json in [false, true] {
        // `-v` shows the SDK's DEBUG lines: one per poll retried through the outage.
        let mut args = vec!["-v", "--timeout", "0.5", "wait", id.as_str()];
        if json {
            args.push("--json");
        }
        let out = e.run(&args);
        out.code(5);
        // The timeout, the wait deadline and the server's last answer, not just "timed out".
        for part in ["timed out", "0.5 s wait deadline", "last error", "503"] {
            assert!(out.stderr.contains(part), "{part:?} missing: {out}");
        }
        // It polled again after a poll's own retries failed, instead of giving up.
        assert!(
            out.stderr.contains("poll failed; polling again") && out.stderr.contains("attempt=1"),
            "{out}"
        );
        if json {
            let doc = out.json();
            assert_eq!(doc["error"]["kind"], "transport", "{out}");
            assert!(
                doc["error"]["message"].as_str().unwrap().contains("503"),
                "{out}"
            );
        }
    }
}
