//! `legacyShape`: the same run served in the documented and the pre-documentation shape, over
//! real sockets, differs only in the envelope, the list key and the status case.

mod common;

use bytes::Bytes;
use clap::Parser;
use common::*;
use nomic_agent_emulator::RunningEmulator;
use nomic_agent_emulator::cli::EmulatorArgs;
use serde_json::{Value, json};

/// Two emulators on the same seed, origin and manual start time, so they issue the same ids.
async fn pair() -> (
    (RunningEmulator, std::sync::Arc<nomic_agent_emulator::Clock>),
    (RunningEmulator, std::sync::Arc<nomic_agent_emulator::Clock>),
) {
    let mut cfg = no_limits();
    // Agent `url`s name this origin, not each emulator's own port.
    cfg.public_origin = Some("https://acme.nomic.ai".into());
    let documented = manual(cfg.clone()).await;
    cfg.legacy_shape = true;
    let legacy = manual(cfg).await;
    (documented, legacy)
}

/// What the documented body becomes in the legacy shape: no `data`, UPPER-CASE agent status.
fn expected_legacy_object(documented: &Value, is_agent: bool) -> Value {
    let mut v = documented["data"].clone();
    assert!(!v.is_null(), "documented body has data: {documented}");
    if is_agent {
        let s = v["status"].as_str().unwrap().to_ascii_uppercase();
        v["status"] = json!(s);
    }
    v
}

/// Sends the same request to both and checks the legacy body against the documented one.
async fn both(
    docs: &RunningEmulator,
    old: &RunningEmulator,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (Value, Value) {
    let d = api(docs, method, path, body.clone()).await;
    let l = api(old, method, path, body).await;
    assert_eq!(d.status, l.status, "{method} {path}");
    (d.json(), l.json())
}

#[tokio::test]
async fn legacy_bodies_are_the_documented_ones_bare_and_upper_case() {
    let ((docs, docs_clock), (old, old_clock)) = pair().await;
    let tick = |ms| {
        advance(&docs_clock, ms);
        advance(&old_clock, ms);
    };
    let launch = json!({"prompt": {"text": "Check it [tool]"}});
    let (d, l) = both(&docs, &old, "POST", "/agents", Some(launch)).await;
    assert!(l.get("data").is_none(), "bare: {l}");
    assert_eq!(l["status"], "WAITING");
    assert_eq!(d["data"]["status"], "waiting");
    assert_eq!(l, expected_legacy_object(&d, true));
    let id = l["id"].as_str().unwrap().to_owned();

    // Walk the turn through every phase; each poll differs only in shape.
    let mut seen = Vec::new();
    for _ in 0..40 {
        let (d, l) = both(&docs, &old, "GET", &format!("/agents/{id}"), None).await;
        assert_eq!(l, expected_legacy_object(&d, true));
        let s = l["status"].as_str().unwrap().to_owned();
        if seen.last() != Some(&s) {
            seen.push(s.clone());
        }
        if s == "FINISHED" {
            break;
        }
        tick(100);
    }
    assert_eq!(
        seen,
        ["WAITING", "RUNNING", "AWAITING_TOOL", "RUNNING", "FINISHED"]
    );

    let (d, l) = both(
        &docs,
        &old,
        "GET",
        &format!("/agents/{id}/conversation"),
        None,
    )
    .await;
    assert!(l["messages"].is_array(), "{l}");
    assert_eq!(l, expected_legacy_object(&d, false));

    let follow = json!({"prompt": {"text": "And again"}});
    let path = format!("/agents/{id}/followup");
    let (d, l) = both(&docs, &old, "POST", &path, Some(follow)).await;
    // The stale window: still the previous turn's status, in either case.
    assert_eq!(l["status"], "FINISHED");
    assert_eq!(l, expected_legacy_object(&d, true));

    let (d, l) = both(&docs, &old, "POST", &format!("/agents/{id}/stop"), None).await;
    assert_eq!(l, expected_legacy_object(&d, true));

    let (d, l) = both(&docs, &old, "GET", "/agents?limit=1", None).await;
    assert!(l.get("data").is_none());
    assert_eq!(l["agents"][0]["id"], id.as_str());
    assert_eq!(l["agents"][0]["status"], "STOPPED");
    assert_eq!(d["data"][0]["status"], "stopped");
    assert_eq!(l["nextCursor"], d["nextCursor"]);

    let (d, l) = both(&docs, &old, "GET", "/workflows", None).await;
    assert_eq!(l["workflows"], d["data"]);
    assert!(!l["workflows"].as_array().unwrap().is_empty());
    assert_eq!(l["nextCursor"], d["nextCursor"]);

    let (d, l) = both(&docs, &old, "GET", "/files/search?query=nothing", None).await;
    assert_eq!(l["files"], d["data"]);
    assert!(l.get("data").is_none());

    // Errors keep their one shape.
    let (d, l) = both(&docs, &old, "GET", "/agents/not-a-uuid", None).await;
    assert_eq!(l, d);
    assert_eq!(l["code"], "bad_request");
}

#[tokio::test]
async fn uploads_are_bare_in_both_shapes() {
    let ((docs, _), (old, _)) = pair().await;
    let boundary = "XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n%PDF-1.4 x\r\n--{boundary}--\r\n"
    );
    let mut bodies = Vec::new();
    for emu in [&docs, &old] {
        let r = try_send(
            emu,
            "POST",
            "/api/v0/files/upload",
            &[
                ("authorization", format!("Bearer {KEY}")),
                (
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                ),
            ],
            Bytes::from(body.clone()),
        )
        .await
        .unwrap();
        assert_eq!(r.status, 201);
        bodies.push(r.json());
    }
    assert_eq!(bodies[0], bodies[1]);
    assert!(bodies[1]["id"].is_string());
}

#[derive(Parser)]
struct Cmd {
    #[command(flatten)]
    args: EmulatorArgs,
}

#[test]
fn the_flag_and_the_config_field_set_the_shape() {
    let cfg = |argv: &[&str]| Cmd::parse_from(argv).args.to_config().unwrap();
    assert!(!cfg(&["emu"]).legacy_shape);
    assert!(cfg(&["emu", "--legacy-shape"]).legacy_shape);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emu.json");
    std::fs::write(&path, r#"{"legacyShape": true}"#).unwrap();
    let path = path.to_str().unwrap();
    assert!(cfg(&["emu", "--config", path]).legacy_shape);
}
