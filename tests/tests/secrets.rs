//! The API key never shows up anywhere: a sentinel key goes through a broad slice of the SDK
//! (happy path, 401/403/404/409/429/5xx, injected faults, TLS) with TRACE logging captured for
//! the whole test, then every log line, error message, panic message and `Debug` output of the
//! public types is searched for it.

use std::io::Write;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use nomic_agent::{
    Client, Error, FileStore, Fleet, LaunchRequest, ListAgentsQuery, MemoryStore, PollSchedule,
    RetryConfig, Session, SessionStore, TierLimits,
};
use nomic_agent_emulator::{Fault, FaultRule, KeyConfig, RunningEmulator};
use nomic_agent_tests::{SCALE, Wire, builder, config, start};

const SENTINEL: &str = "npk_SENTINEL_d41d8cd98f00b204e9800998ecf8427e";
const WRONG: &str = "npk_SENTINEL_WRONG_0123456789abcdef";
const FILES_ONLY: &str = "npk_SENTINEL_FILESONLY_fedcba9876543210";

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn add_keys(emu: &RunningEmulator) {
    for (key, scopes) in [
        (SENTINEL, vec!["developer"]),
        (FILES_ONLY, vec!["developer:files"]),
    ] {
        emu.add_key(KeyConfig {
            key: key.into(),
            name: format!("k{}", key.len()),
            user: "secret-user".into(),
            scopes: scopes.into_iter().map(String::from).collect(),
        })
        .unwrap();
    }
}

fn fault(route: &str, method: Option<&str>, fault: Fault, count: u32) -> FaultRule {
    FaultRule {
        route: route.into(),
        method: method.map(String::from),
        fault,
        probability: None,
        count: Some(count),
    }
}

/// Exercises the SDK against `emu`; returns every `Debug` and `Display` string produced.
async fn exercise(emu: &RunningEmulator, seen: &mut Vec<String>) {
    let mut note = |s: String| seen.push(s);
    let b = builder(emu, SCALE).api_key(SENTINEL);
    note(format!("{b:?}"));
    let client = b.build().unwrap();
    note(format!("{client:?}"));

    // Happy path: launch, wait, follow up, read, list, artifacts.
    let agent = client
        .launch(LaunchRequest::prompt("secret test [tool] [trailing]"))
        .await
        .unwrap();
    note(format!("{agent:?}"));
    let out = agent.wait().await.unwrap();
    note(format!("{out:?}"));
    for a in &out.artifacts {
        note(format!(
            "{:?}",
            client.artifact(agent.id(), a.id).await.unwrap()
        ));
    }
    let out = agent.ask("and again").await.unwrap();
    note(format!("{out:?}"));
    note(format!(
        "{:?}",
        client.conversation(agent.id()).await.unwrap()
    ));
    let mut list = std::pin::pin!(client.list_agents(ListAgentsQuery::new().limit(2)));
    while let Some(a) = list.next().await {
        note(format!("{:?}", a.unwrap()));
    }
    let up = client
        .upload_reader(
            nomic_agent::UploadForm::new("s.txt", "text/plain"),
            &b"hello"[..],
            Some(5),
        )
        .await;
    note(format!("{up:?}"));

    // Sessions and the fleet.
    let session = Session::in_memory(client.clone());
    note(format!("{session:?} {:?}", session.store()));
    let reply = session.send("t", "session prompt").await.unwrap();
    note(format!("{reply:?}"));
    let dir = tempfile::tempdir().unwrap();
    let fs = FileStore::open(dir.path().join("s.json")).unwrap();
    let fsession = Session::new(client.clone(), fs.clone());
    note(format!(
        "{:?}",
        fsession.send("t", "file session").await.unwrap()
    ));
    note(format!("{fsession:?} {fs:?} {:?}", fs.load_turn("t").await));
    note(std::fs::read_to_string(fs.path()).unwrap());
    let mut fleet = Fleet::new(&client);
    fleet
        .launch(LaunchRequest::prompt("fleet one"))
        .await
        .unwrap();
    note(format!("{fleet:?}"));
    while let Some(o) = fleet.next().await {
        note(format!("{o:?}"));
    }
    note(format!("{:?}", MemoryStore::new()));
    note(format!(
        "{:?} {:?} {:?}",
        PollSchedule::default(),
        RetryConfig::default(),
        TierLimits::default()
    ));

    // Errors: 401, 403, 404, 409, 429, 5xx, faults.
    let mut errors: Vec<Error> = Vec::new();
    let wrong = builder(emu, SCALE).api_key(WRONG).build().unwrap();
    errors.push(wrong.launch_prompt("x").await.unwrap_err());
    let files_only = builder(emu, SCALE).api_key(FILES_ONLY).build().unwrap();
    errors.push(files_only.get_agent(agent.id()).await.unwrap_err());
    let missing = "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap();
    errors.push(client.get_agent(missing).await.unwrap_err());
    errors.push(client.stop(agent.id()).await.unwrap_err()); // 409: already terminal
    emu.set_faults(vec![fault(
        "/agents/{id}",
        None,
        Fault::RateLimit {
            retry_after_secs: 1,
            http_date: false,
        },
        50,
    )])
    .unwrap();
    errors.push(client.get_agent(agent.id()).await.unwrap_err());
    emu.set_faults(vec![fault(
        "/agents/{id}",
        None,
        Fault::ServerError { status: 503 },
        50,
    )])
    .unwrap();
    errors.push(client.get_agent(agent.id()).await.unwrap_err());
    emu.set_faults(vec![fault("/agents", Some("POST"), Fault::ResetAfter, 1)])
        .unwrap();
    errors.push(client.launch_prompt("reset after").await.unwrap_err());
    emu.set_faults(vec![fault("*", None, Fault::Truncate, 50)])
        .unwrap();
    errors.push(client.get_agent(agent.id()).await.unwrap_err());
    emu.set_faults(vec![fault(
        "*",
        None,
        Fault::Redirect {
            location: "http://127.0.0.1:9".into(),
        },
        5,
    )])
    .unwrap();
    errors.push(client.get_agent(agent.id()).await.unwrap_err());
    emu.set_faults(Vec::new()).unwrap();
    errors.push(
        Client::builder()
            .api_key(SENTINEL)
            .base_url("ftp://acme.nomic.ai/api/v0")
            .build()
            .unwrap_err(),
    );
    assert!(errors.len() >= 9);
    for e in &errors {
        note(format!("{e:?} / {e} / {:?}", std::error::Error::source(e)));
    }
    // A panic that formats an error and the client.
    let e = &errors[0];
    let c = client.clone();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        panic!("deliberate: {e:?} {e} {c:?}");
    }));
    let msg = r.unwrap_err();
    note(msg.downcast_ref::<String>().cloned().unwrap_or_default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_never_appears_in_logs_errors_panics_or_debug() {
    let logs = Buf::default();
    let writer = logs.clone();
    // The suite's TRACE subscriber (also feeding the capture file when one is configured).
    assert!(
        nomic_agent_tests::trace_capture::install_into(move |b| {
            writer.0.lock().unwrap().extend_from_slice(b);
        }),
        "one subscriber for this test binary"
    );
    // Panic messages go through the hook too: capture them.
    let panics = Buf::default();
    let p = panics.clone();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info.to_string();
        let _ = writeln!(p.clone(), "{msg}");
        if !msg.contains("deliberate") {
            // A real test failure: show it (the assertions below never print the key).
            eprintln!("{msg}");
        }
    }));

    let mut seen = Vec::new();
    for wire in [Wire::Tcp, Wire::Tls] {
        let emu = start(config(wire, SCALE)).await;
        add_keys(&emu);
        exercise(&emu, &mut seen).await;
        // The emulator itself never records the Authorization value either.
        seen.push(format!("{:?}", emu.request_log()));
        emu.shutdown().await;
    }
    let _ = std::panic::take_hook();

    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    let panics = String::from_utf8_lossy(&panics.0.lock().unwrap()).into_owned();
    // The capture works: TRACE/DEBUG lines from the transport and the panic were recorded.
    assert!(
        logs.lines().count() > 50,
        "too few log lines: {}",
        logs.len()
    );
    assert!(panics.contains("deliberate"), "{panics}");
    assert!(seen.len() > 30);
    for key in [SENTINEL, WRONG, FILES_ONLY] {
        // Also the part after the prefix, in case a prefix is stripped or the key is split.
        let tail = &key[4..];
        assert!(!logs.contains(tail), "the key leaked into the logs");
        assert!(
            !panics.contains(tail),
            "the key leaked into a panic message"
        );
        for s in &seen {
            assert!(
                !s.contains(tail),
                "the key leaked: {}",
                s.replace(tail, "<KEY>")
            );
        }
    }
}
