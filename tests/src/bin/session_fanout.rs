//! A process that sends one message on each of many threads of a file-backed [`Session`],
//! for the multi-process session tests: several of these share one store file.
//!
//! ```text
//! session_fanout --base-url URL --api-key KEY --store FILE --tag TAG --threads N
//!                [--first 0] [--concurrency N] [--scale 0.005] [--lease-ms 30000]
//!                [--poll-ms 250] [--go FILE]
//! ```
//!
//! Waits until `--go` exists (so several processes start together), then sends
//! `[TAG] thread I: hello` on the threads `thread-I`, I in `first..first+N`, at most
//! `--concurrency` at a time, all in thread order. Prints `reply thread=<key> start=<how>
//! agent=<id> answer=<text>` per reply, `error thread=<key> <message>` per failure, and exits
//! 1 when any send failed.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use nomic_agent::{Client, FileStore, PollSchedule, Session};

fn main() {
    nomic_agent_tests::trace_capture::install();
    let opt = args();
    let get = |k: &str| {
        opt.get(k).cloned().unwrap_or_else(|| {
            eprintln!("missing --{k}");
            std::process::exit(2);
        })
    };
    let num = |k: &str, d: f64| opt.get(k).map_or(d, |v| v.parse().expect("a number"));
    let scale = num("scale", nomic_agent_tests::SCALE);
    let scaled = |d: Duration| nomic_agent_tests::scaled(d, scale);
    let ms = |k: &str, d: f64| Duration::from_millis(num(k, d) as u64);
    let (first, threads) = (num("first", 0.0) as usize, num("threads", 1.0) as usize);
    let concurrency = num("concurrency", threads as f64).max(1.0) as usize;
    let tag = get("tag");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let failed = rt.block_on(async {
        let client = Client::builder()
            .tier_limits(nomic_agent_tests::tier_limits(scale))
            .api_key(get("api-key"))
            .base_url(get("base-url"))
            .poll_schedule(
                PollSchedule::default()
                    .with_initial(scaled(Duration::from_secs(2)))
                    .with_max(scaled(Duration::from_secs(30))),
            )
            .followup_window(scaled(Duration::from_secs(60)), Duration::from_millis(5))
            .request_deadline(Duration::from_secs(20))
            .build()
            .expect("the client builds");
        let store = FileStore::open(get("store")).expect("the store opens");
        let session = Session::new(client, store)
            .claims(ms("lease-ms", 30_000.0), ms("poll-ms", 250.0))
            .launch_recovery(Duration::from_secs(60), ms("settle-ms", 2_000.0));
        if let Some(go) = opt.get("go") {
            while !std::path::Path::new(go).exists() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let sends = futures_util::stream::iter(first..first + threads)
            .map(|i| {
                let session = session.clone();
                let tag = tag.clone();
                async move {
                    let key = format!("thread-{i}");
                    let r = session
                        .send(&key, format!("[{tag}] thread {i}: hello"))
                        .await;
                    (key, r)
                }
            })
            .buffer_unordered(concurrency);
        let mut sends = std::pin::pin!(sends);
        let mut failed = false;
        while let Some((key, r)) = sends.next().await {
            match r {
                Ok(reply) => println!(
                    "reply thread={key} start={:?} agent={} answer={}",
                    reply.start,
                    reply.agent_id,
                    reply.outcome.answer.unwrap_or_default().replace('\n', " ")
                ),
                Err(e) => {
                    failed = true;
                    println!("error thread={key} {e}");
                }
            }
        }
        failed
    });
    std::process::exit(i32::from(failed));
}

fn args() -> HashMap<String, String> {
    let mut args = std::env::args().skip(1);
    let mut opt = HashMap::new();
    while let Some(k) = args.next() {
        let Some(name) = k.strip_prefix("--") else {
            eprintln!("unexpected argument {k:?}");
            std::process::exit(2);
        };
        let Some(v) = args.next() else {
            eprintln!("--{name} needs a value");
            std::process::exit(2);
        };
        opt.insert(name.to_owned(), v);
    }
    opt
}
