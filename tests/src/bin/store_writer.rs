//! A process that writes to a shared [`FileStore`], for the multi-process store tests.
//!
//! ```text
//! store_writer --store FILE --writer W --keys N [--go FILE]
//! store_writer --store FILE --claim KEY --lease-ms N
//! ```
//!
//! The first form waits until `--go` exists (so several writers start together), then saves
//! the keys `wW-0` … `wW-{N-1}`, one update per key, key `wW-I` with the agent id
//! `019abc12-3456-7890-abcd-WWWWIIIIIIII` (W and I in hex), and prints `saved N`. The
//! second claims `KEY` for a new owner with the given lease, prints `claimed <owner>`, and
//! then sleeps (never renewing) until it is killed.

use std::collections::HashMap;
use std::time::Duration;

use nomic_agent::{Claim, ClaimOwner, FileStore, SessionStore};

fn main() {
    nomic_agent_tests::trace_capture::install();
    let opt = args();
    let get = |k: &str| {
        opt.get(k).cloned().unwrap_or_else(|| {
            eprintln!("missing --{k}");
            std::process::exit(2);
        })
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let store = FileStore::open(get("store")).expect("the store opens");
        if let Some(key) = opt.get("claim") {
            let lease = Duration::from_millis(get("lease-ms").parse().expect("a number"));
            let owner = ClaimOwner::new();
            match store.claim(key, &owner, lease).await.expect("the claim") {
                Claim::Acquired { .. } => println!("claimed {owner}"),
                other => panic!("not granted: {other:?}"),
            }
            loop {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        }
        if let Some(go) = opt.get("go") {
            while !std::path::Path::new(go).exists() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let w: u16 = get("writer").parse().expect("a number");
        let n: u32 = get("keys").parse().expect("a number");
        for i in 0..n {
            let id = format!("019abc12-3456-7890-abcd-{w:04x}{i:08x}")
                .parse()
                .expect("a valid agent id");
            store
                .save(&format!("w{w}-{i}"), id)
                .await
                .expect("the save");
        }
        println!("saved {n}");
    });
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
