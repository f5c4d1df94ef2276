//! Timelines, markers, follow-ups and the stale window, stop, forced completion.

mod common;

use common::*;
use nomic_agent_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

async fn agent(emu: &nomic_agent_emulator::RunningEmulator, id: &str) -> Value {
    let r = api(emu, "GET", &format!("/agents/{id}"), None).await;
    assert_eq!(r.status, 200);
    r.json()["data"].clone()
}

async fn kinds(emu: &nomic_agent_emulator::RunningEmulator, id: &str) -> Vec<String> {
    let c = api(emu, "GET", &format!("/agents/{id}/conversation"), None)
        .await
        .json();
    c["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn markers_drive_outcomes() {
    let (emu, clock) = manual(no_limits()).await;
    let fail = launch(&emu, "please [fail]").await;
    let tool = launch(&emu, "use [tool]").await;
    let trailing = launch(&emu, "x [trailing]").await;
    let never = launch(&emu, "x [never]").await;
    let slow = launch(&emu, "x [slow]").await;
    advance(&clock, 1500); // running 1000 ms in (of 2000) → [tool] is awaiting
    assert_eq!(agent(&emu, &tool).await["status"], "awaiting_tool");
    advance(&clock, 1500);
    let f = agent(&emu, &fail).await;
    assert_eq!(f["status"], "failed");
    assert!(f["error"].as_str().unwrap().contains("[fail]"));
    assert_eq!(f["artifacts"], json!([]));
    assert_eq!(kinds(&emu, &fail).await, ["user", "tool", "error"]);
    assert_eq!(agent(&emu, &tool).await["status"], "running");
    advance(&clock, 500);
    assert_eq!(agent(&emu, &tool).await["status"], "finished");
    assert_eq!(
        kinds(&emu, &tool).await,
        ["user", "tool", "tool", "assistant"]
    );
    assert_eq!(
        kinds(&emu, &trailing).await,
        ["user", "tool", "assistant", "tool", "error"]
    );
    assert_eq!(
        agent(&emu, &slow).await["status"],
        "waiting",
        "10x: waiting 5 s, running 20 s"
    );
    advance(&clock, 100_000);
    assert_eq!(agent(&emu, &slow).await["status"], "finished");
    assert_eq!(agent(&emu, &never).await["status"], "running");

    // Stop: 200 with the stopped agent; a second stop conflicts.
    let r = api(&emu, "POST", &format!("/agents/{never}/stop"), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["data"]["status"], "stopped");
    assert_eq!(agent(&emu, &never).await["status"], "stopped");
    let r = api(&emu, "POST", &format!("/agents/{never}/stop"), None).await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (409, Some("conflict"))
    );
}

#[tokio::test]
async fn follow_up_stale_window_on_a_stepped_clock() {
    let (emu, clock) = manual(no_limits()).await;
    let id = launch(&emu, "first question").await;
    // Active agents refuse follow-ups.
    let r = api(
        &emu,
        "POST",
        &format!("/agents/{id}/followup"),
        Some(json!({"prompt": {"text": "too early"}})),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (409, Some("conflict"))
    );
    advance(&clock, 3000);
    let before = agent(&emu, &id).await;
    assert_eq!(before["status"], "finished");
    let conv_before = api(&emu, "GET", &format!("/agents/{id}/conversation"), None)
        .await
        .json();

    let bad = api(
        &emu,
        "POST",
        &format!("/agents/{id}/followup"),
        Some(json!({"prompt": {"text": "x"}, "fileIds": []})),
    )
    .await;
    assert_eq!(bad.status, 400);
    let r = api(
        &emu,
        "POST",
        &format!("/agents/{id}/followup"),
        Some(json!({"prompt": {"text": "second question"}})),
    )
    .await;
    assert_eq!(r.status, 202);
    assert_eq!(
        r.json()["data"],
        before,
        "the 202 carries the current (old) agent"
    );
    // A second follow-up inside the window is a conflict (the new turn is pending).
    let r2 = api(
        &emu,
        "POST",
        &format!("/agents/{id}/followup"),
        Some(json!({"prompt": {"text": "third"}})),
    )
    .await;
    assert_eq!(r2.status, 409);

    advance(&clock, 1999);
    let during = agent(&emu, &id).await;
    assert_eq!(during["status"], "finished");
    assert_eq!(
        during["updatedAt"], before["updatedAt"],
        "updatedAt does not move in the window"
    );
    let conv_during = api(&emu, "GET", &format!("/agents/{id}/conversation"), None)
        .await
        .json();
    assert_eq!(conv_during, conv_before, "old conversation in the window");

    advance(&clock, 1);
    let after = agent(&emu, &id).await;
    assert_eq!(after["status"], "waiting");
    assert_ne!(after["updatedAt"], before["updatedAt"]);
    assert_eq!(
        kinds(&emu, &id).await,
        ["user", "tool", "assistant", "user"]
    );
    advance(&clock, 2500);
    assert_eq!(agent(&emu, &id).await["status"], "finished");
    let conv = api(&emu, "GET", &format!("/agents/{id}/conversation"), None)
        .await
        .json();
    let msgs = conv["data"]["messages"].as_array().unwrap();
    let answers: Vec<&str> = msgs
        .iter()
        .filter(|m| m["type"] == "assistant")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(answers.len(), 2);
    assert_ne!(answers[0], answers[1]);
    assert!(answers[1].contains("Turn 2") && answers[1].contains("second question"));
    let arts = agent(&emu, &id).await["artifacts"].clone();
    assert_eq!(arts[0]["version"], 2);
    assert_eq!(emu.counters().follow_ups_per_agent.get(&id), Some(&1));
}

#[tokio::test]
async fn zero_stale_window_and_stop_or_complete_inside_it() {
    let mut cfg = no_limits();
    cfg.lifecycle.stale_window_ms = 0;
    let (emu, clock) = manual(cfg).await;
    let id = launch(&emu, "q").await;
    advance(&clock, 2500);
    let before = agent(&emu, &id).await;
    let r = api(
        &emu,
        "POST",
        &format!("/agents/{id}/followup"),
        Some(json!({"prompt": {"text": "again"}})),
    )
    .await;
    assert_eq!(r.json()["data"]["status"], "finished");
    let now = agent(&emu, &id).await;
    assert_eq!(
        now["status"], "waiting",
        "no window: the turn starts at once"
    );
    assert_ne!(
        now["updatedAt"], before["updatedAt"],
        "updatedAt moves even within the same millisecond"
    );

    // Default window, then stop and force-complete inside it.
    let (emu, clock) = manual(no_limits()).await;
    let a = launch(&emu, "a").await;
    let b = launch(&emu, "b").await;
    advance(&clock, 2500);
    for id in [&a, &b] {
        assert_eq!(
            api(
                &emu,
                "POST",
                &format!("/agents/{id}/followup"),
                Some(json!({"prompt": {"text": "more"}}))
            )
            .await
            .status,
            202
        );
    }
    let r = api(&emu, "POST", &format!("/agents/{a}/stop"), None).await;
    assert_eq!(r.json()["data"]["status"], "stopped");
    let r = control(&emu, "POST", &format!("/agents/{b}/complete"), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["data"]["status"], "finished");
    assert_eq!(
        kinds(&emu, &b).await,
        ["user", "tool", "assistant", "user", "assistant"]
    );
    let r = control(&emu, "POST", &format!("/agents/{b}/complete"), None).await;
    assert_eq!(r.status, 409, "already terminal");
    let never = launch(&emu, "[never]").await;
    let done = emu.complete_agent(never.parse().unwrap()).unwrap();
    assert_eq!(done["status"], "finished");
}

#[tokio::test]
async fn time_scale_runs_a_turn_in_milliseconds_on_the_real_clock() {
    let mut cfg = EmulatorConfig {
        time_scale: 0.001,
        ..EmulatorConfig::default()
    };
    cfg.rate_limits.enabled = false;
    let emu = Emulator::start(cfg).await.unwrap();
    let id = launch(&emu, "quick").await;
    let mut status = String::new();
    for _ in 0..200 {
        status = agent(&emu, &id).await["status"]
            .as_str()
            .unwrap()
            .to_owned();
        if status == "finished" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    assert_eq!(status, "finished", "2.5 s nominal at 0.001 is 2.5 ms");
    // The stale window is scaled too (2 s → 2 ms), but it is still observed by updatedAt.
    let before = agent(&emu, &id).await;
    let r = api(
        &emu,
        "POST",
        &format!("/agents/{id}/followup"),
        Some(json!({"prompt": {"text": "more"}})),
    )
    .await;
    assert_eq!(r.status, 202);
    let mut moved = false;
    for _ in 0..200 {
        let a = agent(&emu, &id).await;
        if a["updatedAt"] != before["updatedAt"] {
            moved = true;
            break;
        }
        assert_eq!(a["status"], "finished");
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    assert!(moved);
    emu.set_time_scale(1000.0).unwrap();
    assert!(emu.set_time_scale(0.0).is_err());
    assert!(emu.set_time_scale(f64::NAN).is_err());
    emu.shutdown().await;
}

#[tokio::test]
async fn thousands_of_idle_agents_are_cheap() {
    let (emu, clock) = manual(no_limits()).await;
    for i in 0..2000 {
        let r = api(
            &emu,
            "POST",
            "/agents",
            Some(json!({"prompt": {"text": format!("n{i} [never]")}})),
        )
        .await;
        assert_eq!(r.status, 201);
    }
    advance(&clock, 1_000_000);
    let r = api(&emu, "GET", "/agents?status=running&limit=100", None)
        .await
        .json();
    assert_eq!(r["data"].as_array().unwrap().len(), 100);
    assert!(r["nextCursor"].is_string());
}
