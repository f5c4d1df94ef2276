//! The embedded default (no base URL), `demo`, the `emulator` subcommand, and the API key
//! staying out of every output.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Emu, Out, SECRET, asset, bare};

/// The embedded emulator sped up for tests (its default takes about 1.5 s per turn).
fn fast_embedded(dir: &std::path::Path) -> std::process::Command {
    let mut c = bare(dir);
    c.env("NOMIC_AGENT_EMULATOR_TIME_SCALE", "0.01")
        .args(common::FAST);
    c
}

#[test]
fn without_a_base_url_run_uses_the_embedded_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = fast_embedded(dir.path());
    let photo = asset("site-photo.png");
    let report = asset("inspection-report.md");
    c.args([
        "run",
        "Summarize",
        "--image",
        photo.to_str().unwrap(),
        "--file",
        report.to_str().unwrap(),
        "--json",
    ]);
    let out = Out::of(c);
    out.code(0);
    // One line saying so, and how to use a real instance instead.
    let notice: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("embedded emulator"))
        .collect();
    assert_eq!(notice.len(), 1, "{out}");
    assert!(notice[0].contains("NOMIC_BASE_URL"), "{out}");
    let doc = out.json();
    assert_eq!(doc["status"], "finished");
    assert!(
        doc["answer"]
            .as_str()
            .unwrap()
            .contains("inspection-report.md")
    );
}

#[test]
fn the_default_embedded_run_visibly_goes_waiting_running_finished() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = bare(dir.path());
    c.args(["run", "Hello"]);
    let started = Instant::now();
    let out = Out::of(c);
    out.code(0);
    // A hang guard only: the embedded emulator's scale makes the run take about a second,
    // but a busy machine may take several; the order of the lines below is the test.
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "took {:?}",
        started.elapsed()
    );
    let pos = |s: &str| {
        out.stderr
            .find(s)
            .unwrap_or_else(|| panic!("no {s:?} line:\n{out}"))
    };
    assert!(pos("] waiting") < pos("] running"));
    assert!(pos("] running") < pos("] finished"));
    assert!(out.stdout.contains("You asked: \"Hello\""), "{out}");
}

#[test]
fn demo_tours_upload_launch_and_follow_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = fast_embedded(dir.path());
    c.args(["demo", "--json"]);
    let out = Out::of(c);
    out.code(0);
    let doc = out.json();
    assert_eq!(doc["upload"]["name"], "inspection-report.md");
    assert_eq!(doc["launch"]["status"], "finished");
    let first = doc["launch"]["answer"].as_str().unwrap();
    assert!(
        first.contains("Turn 1") && first.contains("Images: 1"),
        "{first}"
    );
    let second = doc["followUp"]["answer"].as_str().unwrap();
    assert!(second.contains("Turn 2"), "{second}");
    assert_eq!(doc["launch"]["agentId"], doc["followUp"]["agentId"]);

    let mut c = fast_embedded(dir.path());
    c.arg("demo");
    let human = Out::of(c);
    human.code(0);
    assert_eq!(human.stdout.matches("--- answer ---").count(), 2, "{human}");
    assert!(
        human.stdout.contains("--- artifact: Answer (document) ---"),
        "{human}"
    );
}

#[test]
fn emulator_subcommand_serves_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = bare(dir.path())
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--time-scale",
            "0.01",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_owned();
    let mut c = bare(dir.path());
    c.args(["--base-url", &url, "--api-key", "npk_emulator_local"])
        .args(common::FAST)
        .args(["run", "via the subcommand", "--json"]);
    let out = Out::of(c);
    child.kill().unwrap();
    child.wait().unwrap();
    out.code(0);
    assert_eq!(out.json()["status"], "finished");
}

#[test]
fn bad_emulator_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = bare(dir.path());
    c.args(["emulator", "--listen", "127.0.0.1:0", "--time-scale", "0"]);
    Out::of(c).code(2);
}

#[test]
fn the_key_never_appears_even_with_maximum_verbosity() {
    let e = Emu::start();
    // Out::of already fails on any leak; also make sure logging really ran.
    let out = e.run(&["-vv", "run", "log everything", "--json"]);
    out.code(0);
    assert!(
        out.stderr.contains("TRACE") || out.stderr.contains("DEBUG"),
        "{out}"
    );
    let out = e.run(&["-v", "status", "019abc12-3456-7890-abcd-ef1234567890"]);
    out.code(4);
    assert!(out.stderr.contains("DEBUG"), "{out}");

    // From the environment instead of the flag.
    let mut c = bare(e.dir.path());
    c.env("NOMIC_API_KEY", SECRET)
        .env("NOMIC_BASE_URL", e.base_url())
        .args(common::FAST)
        .args(["-vv", "workflows"]);
    Out::of(c).code(0);

    // clap's --help shows env values unless told not to.
    let mut c = bare(e.dir.path());
    c.env("NOMIC_API_KEY", SECRET).arg("--help");
    let help = Out::of(c);
    help.code(0);
    assert!(help.stdout.contains("NOMIC_API_KEY"), "{help}");

    // Even a key pasted where a command belongs is scrubbed from clap's error.
    let mut c = bare(e.dir.path());
    c.args(["--api-key", SECRET, SECRET]);
    let err = Out::of(c);
    err.code(2);
    assert!(err.stderr.contains("<redacted>"), "{err}");
}

#[test]
fn ca_cert_trusts_an_emulator_serving_tls() {
    let e = Emu::with(|c| c.tls = Some(Default::default()));
    assert!(e.base_url().starts_with("https://"), "{}", e.base_url());
    let pem = e.dir.path().join("ca.pem");
    std::fs::write(&pem, e.emu().ca_pem().expect("a CA")).unwrap();

    let out = e.run(&[
        "--ca-cert",
        pem.to_str().unwrap(),
        "run",
        "over TLS",
        "--json",
    ]);
    out.code(0);
    assert_eq!(out.json()["status"], "finished");

    // Without the CA the certificate is not trusted: a transport error, nothing launched.
    let out = e.run(&["--timeout", "1", "run", "untrusted"]);
    out.code(5);
    assert_eq!(
        e.emu().counters().agents_created_per_user.get(common::USER),
        Some(&1)
    );

    let missing = e.dir.path().join("missing.pem");
    e.run(&["--ca-cert", missing.to_str().unwrap(), "workflows"])
        .code(2);
}
