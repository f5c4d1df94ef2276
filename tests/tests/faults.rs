//! Rate-limit storms, spend caps, resets after the server acted, auth failures.

use futures_util::TryStreamExt;
use std::time::Duration;

use nomic_agent::{AgentStatus, Error, LaunchRequest, ListAgentsQuery, RetryConfig};
use nomic_agent_emulator::{Fault, FaultRule};
use nomic_agent_tests::{SCALE, Wire, builder, client, config, start};

fn storm(route: &str, method: &str, http_date: bool, count: u32) -> FaultRule {
    FaultRule {
        route: route.into(),
        method: Some(method.into()),
        fault: Fault::RateLimit {
            retry_after_secs: 1,
            http_date,
        },
        probability: None,
        count: Some(count),
    }
}

async fn storm_is_weathered(http_date: bool) {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = client(&emu, SCALE);
    // Three 429s on the launch and three on the polls: each is retried after Retry-After
    // (capped for the test), the launch is sent until accepted, exactly one agent exists.
    emu.set_faults(vec![
        storm("/agents", "POST", http_date, 3),
        storm("/agents/{id}", "GET", http_date, 3),
    ])
    .unwrap();
    let out = c
        .launch(LaunchRequest::prompt("through the storm"))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(out.status, AgentStatus::Finished);
    let counters = emu.counters();
    assert_eq!(counters.faults_injected, 6);
    assert_eq!(counters.agents_created_per_user.values().sum::<u64>(), 1);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_storm_delta_seconds() {
    storm_is_weathered(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_storm_http_date() {
    storm_is_weathered(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_storm_ends_in_rate_limited() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = client(&emu, SCALE);
    emu.set_faults(vec![storm("/agents", "GET", false, 1_000)])
        .unwrap();
    let err = c
        .list_agents_page(&ListAgentsQuery::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err}");
    // Bounded: the transport's attempts, not a loop.
    let tries = emu.counters().faults_injected;
    assert!((2..=8).contains(&tries), "{tries} attempts");
    emu.shutdown().await;
}

/// Issue 14: a wait that ends on a 429 reports the wait the server asked for (it used to say
/// `retry_after: None`), carried from the one classification up through the turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_ended_by_a_429_reports_the_servers_retry_after() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    // Retry-After uncapped up to 120 s (the default), and a wait deadline shorter than the
    // server's 90 s: no poll may go out before then, so the wait ends on the 429 at once.
    let c = builder(&emu, SCALE)
        .retry(RetryConfig::default())
        .wait_deadline(Duration::from_secs(5))
        .build()
        .unwrap();
    let agent = c
        .launch(LaunchRequest::prompt("[never] slow down"))
        .await
        .unwrap();
    emu.set_faults(vec![FaultRule {
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
    let err = agent.wait().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(90)));
    assert_eq!(err.status(), Some(429));
    let api = err.api().expect("the server's answer");
    assert_eq!(api.code(), Some("rate_limited"));
    assert!(
        err.to_string().ends_with("the server asked to wait 90 s"),
        "{err}"
    );
    // One poll: the next could not go out before the server's time.
    assert_eq!(emu.counters().faults_injected, 1);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spend_cap_is_typed_and_not_retried() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = client(&emu, SCALE);
    emu.set_spend_cap("local", Some(0), true);
    let err = c
        .launch(LaunchRequest::prompt("one more"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SpendLimit { .. }), "{err}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("spend cap"), "{err}");
    let launches = emu
        .request_log()
        .iter()
        .filter(|e| e.method == "POST" && e.path.ends_with("/agents"))
        .count();
    assert_eq!(launches, 1, "a spend-limit 429 is never retried");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_after_commit_on_launch_is_outcome_unknown_with_one_agent() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = client(&emu, SCALE);
    emu.set_faults(vec![FaultRule {
        route: "/agents".into(),
        method: Some("POST".into()),
        fault: Fault::ResetAfter,
        probability: None,
        count: Some(1),
    }])
    .unwrap();
    let err = c
        .launch(LaunchRequest::prompt("exactly once"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::LaunchOutcomeUnknown), "{err}");
    assert!(err.to_string().contains("list agents"), "{err}");
    // The reconciliation the error suggests finds exactly the one agent.
    let agents: Vec<_> = c
        .list_agents(ListAgentsQuery::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(agents.len(), 1);
    assert_eq!(
        emu.counters().agents_created_per_user.values().sum::<u64>(),
        1
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_error_on_launch_is_outcome_unknown() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = client(&emu, SCALE);
    emu.set_faults(vec![FaultRule {
        route: "/agents".into(),
        method: Some("POST".into()),
        fault: Fault::ServerError { status: 503 },
        probability: None,
        count: Some(1),
    }])
    .unwrap();
    let err = c.launch(LaunchRequest::prompt("maybe")).await.unwrap_err();
    assert!(matches!(err, Error::LaunchOutcomeUnknown), "{err}");
    let launches = emu
        .request_log()
        .iter()
        .filter(|e| e.method == "POST" && e.path.ends_with("/agents"))
        .count();
    assert_eq!(launches, 1, "never resent");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_key_says_what_to_check_without_leaking_it() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = builder(&emu, SCALE)
        .api_key("npk_wrong_secret_123")
        .build()
        .unwrap();
    let err = c.launch(LaunchRequest::prompt("hi")).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err}");
    let shown = format!("{err} {err:?} {c:?}");
    assert!(shown.contains("NOMIC_API_KEY"));
    assert!(!shown.contains("npk_wrong_secret_123"));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_server_errors_on_polls_are_retried() {
    let emu = start(config(Wire::Tcp, SCALE)).await;
    let c = client(&emu, SCALE);
    emu.set_faults(vec![
        FaultRule {
            route: "/agents/{id}".into(),
            method: Some("GET".into()),
            fault: Fault::ServerError { status: 503 },
            probability: None,
            count: Some(2),
        },
        FaultRule {
            route: "/agents/{id}/conversation".into(),
            method: Some("GET".into()),
            fault: Fault::ResetBefore,
            probability: None,
            count: Some(1),
        },
    ])
    .unwrap();
    let out = c
        .launch(LaunchRequest::prompt("flaky"))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert!(out.answer.unwrap().contains("flaky"));
    assert_eq!(emu.counters().faults_injected, 3);
    emu.shutdown().await;
}
