//! Uploads whose body can be read again (a path, bytes) are resent like any other repeatable
//! request: after a request-rate 429 (its `Retry-After` honoured), a 503, a reset after the
//! body, a connection never made.

use std::time::{Duration, Instant};

use nomic_agent::{Client, Error, RetryAfterPolicy, RetryConfig, TierLimit, TierLimits};
use nomic_agent_emulator::{Emulator, EmulatorConfig, Fault, FaultRule, RunningEmulator};

/// The emulator's `Retry-After` (1 s) is capped at this, so the test stays fast.
const CAP: Duration = Duration::from_millis(50);

async fn setup(fault: Fault) -> (RunningEmulator, Client) {
    let emu = Emulator::start(EmulatorConfig {
        time_scale: 0.01,
        faults: vec![FaultRule {
            route: "/files/upload".into(),
            method: Some("POST".into()),
            fault,
            probability: None,
            count: Some(1),
        }],
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts");
    let client = Client::builder()
        .api_key(emu.default_key().expect("default key enabled"))
        .base_url(emu.base_url())
        .retry(RetryConfig::default().with_retry_after(RetryAfterPolicy::with_cap(CAP)))
        .tier_limits(TierLimits {
            heavy: TierLimit::new(
                emu.time_scale()
                    .per_minute(TierLimits::default().heavy.per_minute),
                1,
            ),
            ..TierLimits::default()
        })
        .build()
        .expect("the client builds");
    (emu, client)
}

/// `(status, fault)` of every upload request the emulator saw, in order.
fn uploads(emu: &RunningEmulator) -> Vec<(Option<u16>, Option<String>)> {
    emu.request_log()
        .into_iter()
        .filter(|e| e.route.as_deref() == Some("/files/upload"))
        .map(|e| (e.status, e.fault))
        .collect()
}

#[tokio::test]
async fn a_rate_limited_path_upload_is_sent_again_after_retry_after_and_stored_once() {
    let (emu, client) = setup(Fault::RateLimit {
        retry_after_secs: 1,
        http_date: false,
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "Level 3: guardrails missing.").unwrap();

    let started = Instant::now();
    let stored = client.upload_path(&file).await.unwrap();
    assert_eq!(stored.name, "notes.txt");
    // The (capped) Retry-After was honoured before the second attempt.
    assert!(started.elapsed() >= CAP, "{:?}", started.elapsed());
    let seen = uploads(&emu);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].0, Some(429), "{seen:?}");
    assert!(
        seen[0].1.is_some(),
        "the first was the injected 429: {seen:?}"
    );
    assert!(
        matches!(seen[1], (Some(s), None) if (200..300).contains(&s)),
        "{seen:?}"
    );
    assert_eq!(emu.counters().faults_injected, 1);
    emu.shutdown().await;
}

/// The first attempt fails with `fault`; the second is stored. Two attempts in the log.
async fn resent_once_after(fault: Fault, bytes: bool) {
    let (emu, client) = setup(fault).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "Level 3: guardrails missing.").unwrap();
    let stored = if bytes {
        client
            .upload_bytes("notes.txt", &b"Level 3: guardrails missing."[..])
            .await
            .unwrap()
    } else {
        client.upload_path(&file).await.unwrap()
    };
    assert_eq!(stored.name, "notes.txt");
    let seen = uploads(&emu);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen[0].1.is_some(),
        "the first was the injected fault: {seen:?}"
    );
    assert!(
        matches!(seen[1], (Some(s), None) if (200..300).contains(&s)),
        "{seen:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_503_is_resent_and_stored() {
    resent_once_after(Fault::ServerError { status: 503 }, false).await;
}

#[tokio::test]
async fn a_reset_after_the_body_is_resent_and_stored() {
    resent_once_after(Fault::ResetAfter, false).await;
}

#[tokio::test]
async fn a_bytes_upload_is_resent_after_a_429_and_a_503() {
    resent_once_after(
        Fault::RateLimit {
            retry_after_secs: 1,
            http_date: false,
        },
        true,
    )
    .await;
    resent_once_after(Fault::ServerError { status: 503 }, true).await;
}

#[tokio::test]
async fn a_streamed_upload_is_not_resent_after_a_503() {
    let (emu, client) = setup(Fault::ServerError { status: 503 }).await;
    let form = nomic_agent::UploadForm::new("notes.txt", "text/plain");
    let err = client
        .upload_reader(form, &b"read once"[..], Some(9))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503), "{err:?}");
    // Its body was read once: one attempt, the error says what happened.
    assert_eq!(uploads(&emu).len(), 1, "{:?}", uploads(&emu));
    emu.shutdown().await;
}

#[tokio::test]
async fn a_refused_connection_is_a_not_sent_transport_error_after_the_retries() {
    // A port that refuses: learnt from an emulator, then closed.
    let (emu, client) = setup(Fault::ResetBefore).await;
    emu.shutdown().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "x").unwrap();

    let err = client.upload_path(&file).await.unwrap_err();
    assert!(
        matches!(err, Error::Transport { sent: false, .. }),
        "not a file-read error: {err:?}"
    );
}
