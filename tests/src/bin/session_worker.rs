//! A process that runs one turn of a file-backed [`Session`], for the crash-safety tests: they
//! kill it with SIGKILL mid-turn and start it again with the same arguments.
//!
//! ```text
//! session_worker --base-url URL --api-key KEY --store FILE --thread KEY --message ID
//!                --prompt TEXT [--scale 0.02] [--settle-ms 400] [--hold-ms 0]
//! ```
//!
//! Prints `start=<how> agent=<id>` and `answer=<text>` on success (exit 0); on an SDK error
//! prints `error=<message>` (exit 1). `--hold-ms` sleeps after the answer arrived and before it
//! is printed, so a test can kill the process "after the answer".

use std::time::Duration;

use nomic_agent::{Client, FileStore, PollSchedule, Session};

fn main() {
    nomic_agent_tests::trace_capture::install();
    let mut args = std::env::args().skip(1);
    let mut opt = std::collections::HashMap::new();
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
    let get = |k: &str| {
        opt.get(k).cloned().unwrap_or_else(|| {
            eprintln!("missing --{k}");
            std::process::exit(2);
        })
    };
    let num = |k: &str, d: f64| opt.get(k).map_or(d, |v| v.parse().expect("a number"));
    let scale = num("scale", 0.02);
    let settle = Duration::from_millis(num("settle-ms", 400.0) as u64);
    let hold = Duration::from_millis(num("hold-ms", 0.0) as u64);
    let scaled = |d: Duration| nomic_agent_tests::scaled(d, scale);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let code = rt.block_on(async {
        // The emulator scales its rate limits by the time scale; pace to match.
        let client = Client::builder()
            .tier_limits(nomic_agent_tests::tier_limits(scale))
            .api_key(get("api-key"))
            .base_url(get("base-url"))
            .poll_schedule(
                PollSchedule::default()
                    .with_initial(scaled(Duration::from_secs(2)))
                    .with_max(Duration::from_millis(50)),
            )
            .followup_window(scaled(Duration::from_secs(60)), Duration::from_millis(5))
            .request_deadline(Duration::from_secs(10))
            .wait_deadline(Duration::from_secs(30))
            .build()
            .expect("the client builds");
        let store = FileStore::open(get("store")).expect("the store opens");
        let session = Session::new(client, store).launch_recovery(Duration::from_secs(60), settle);
        match session
            .send_message(&get("thread"), &get("message"), get("prompt"))
            .await
        {
            Ok(reply) => {
                tokio::time::sleep(hold).await;
                println!("start={:?} agent={}", reply.start, reply.agent_id);
                println!(
                    "answer={}",
                    reply.outcome.answer.unwrap_or_default().replace('\n', " ")
                );
                0
            }
            Err(e) => {
                println!("error={e}");
                1
            }
        }
    });
    std::process::exit(code);
}
