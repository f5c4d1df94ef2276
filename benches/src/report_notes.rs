//! The explanatory notes at the end of `docs/benchmarks.md`: how time scaling works, and where
//! the time or memory goes for every target that was not met.

use std::fmt::Write;

use serde_json::Value;

pub fn notes(results: &Value) -> String {
    let b = &results["benchmarks"];
    let mut o = String::new();
    let _ = writeln!(o, "## Time scaling\n");
    let _ = writeln!(
        o,
        "Benchmarks 3–5 run minutes of simulated time in seconds. The emulator multiplies every lifecycle duration and its rate-limit emission interval by its time scale; the SDK gets the same factor on its poll schedule (2 s → 30 s becomes 2 s·s → 30 s·s) and on its tier limits (300/min becomes 300/s·min), so request counts per simulated minute are the real ones. Lags are measured in real time and divided by the scale. What does not scale is the machine: ~1–5 ms of real loopback latency reads as 1–5 ms ÷ scale, and tokio's 1 ms timer granularity as 1 ms ÷ scale. That is why each benchmark picks its own scale (noted in its section): large enough that these artifacts stay small against the permit interval and the lags being measured. `Retry-After` from the emulator is in real whole seconds (≥ 1); the naive clients read it as simulated seconds (what a real server would have said for the same wait).\n"
    );

    let _ = writeln!(o, "## Where the gaps come from\n");
    let ov = &b["client_overhead"];
    if ov["met"].as_bool() == Some(false) {
        let _ = writeln!(
            o,
            "**1. Client overhead.** The emulator answers `GET /agents/{{id}}` in a few tens of microseconds, so per-request client CPU is a large share of each round trip and both processes compete for the same two (shared) cores: every microsecond the client spends is a microsecond the server is not serving. Decoding alone: the SDK decodes the whole `Agent` ({} µs for the {}-byte body) where the hand-written clients decode three fields ({} µs). A `perf record -g` of `nomic-agent-bench overhead --quick` (client, emulator and kernel together) is flat: loopback socket work in the kernel and the allocator (`malloc`/`free`/`memmove` ≈ 12 % of samples) lead, with no single hot function in the SDK. The SDK's extra cost is spread over its per-request work: one boxed future per tower layer (deadline, retry with its budget, pacing's mutex-guarded GCRA, timeout, auth, tracing span), core's request builder (URI formatting, the `Endpoint`/`RequestMeta` extensions), collecting the body under the size limit, and the full decode — mostly allocations, which is where the allocator share comes from. reqwest pays a similar (smaller) per-request tax. Against a real server (tens of ms per request) these microseconds vanish: the ratios here are the worst case, a zero-cost server on a shared two-core box.\n",
            crate::report::fmt_value(&ov["decode_us_sdk_agent"]),
            crate::report::fmt_value(&ov["body_bytes"]),
            crate::report::fmt_value(&ov["decode_us_three_fields"]),
        );
    }
    let cap = &b["fleet_capacity"];
    if cap["met"].as_bool() == Some(false) {
        let _ = writeln!(
            o,
            "**4. Fleet capacity.** Zero 429s hold at every size (pacing works); the gap is the median lag. A scan of N active agents costs N/100 pages at 5 requests/s, so 10,000 agents take ~20 s per scan, and the `Fleet` plan reschedules every agent a full poll delay (the 30 s cap) *after* each scan finishes: the scan period is ~20 s + 30 s, the mean wait for the next scan ~25 s, plus the confirmation poll and conversation read. The reads/min column shows the budget is not used up (scans are not back to back). The fix is in the plan (`crates/sdk/src/fleet/plan.rs`): start the next scan when the oldest observation is one cap old instead of one cap after the last scan ended (period = max(cap, scan time)), which should bring the median lag at 10,000 agents down to roughly half a cap.\n"
        );
    }
    let pac = &b["pacing"];
    if pac["met"].as_bool() == Some(false) {
        let _ = writeln!(
            o,
            "**5. Pacing.** Zero 429s; the shortfall is quota left unused. The SDK's limiter is a GCRA with burst 1: a waiter sleeps until the permit's instant, and whatever it wakes late (timer granularity, scheduling on a busy box, the other waiters) pushes every later permit back, since a burst-1 bucket cannot catch up; at the scaled 40 ms Standard interval that costs a few per cent. The Heavy-tier shortfall is larger than that mechanism explains (about 35 ms real per permit against a 100 ms scaled interval) and has not been profiled yet; suspects to check first are the launch path's own latency under the pacing wait and the pacing layer's wake-up of eight concurrent waiters. A burst of 2 in the default tier limits (core's `TierLimits::default`) would let the limiter absorb a late wake without exceeding the server's sustained rate."
        );
    }
    let up = &b["upload"];
    let _ = writeln!(
        o,
        "**6. Upload.** The first run of this benchmark measured the SDK at 0.05× raw hyper (76 vs 1,091 MiB/s): the upload body read the file through `ReaderStream::new`, i.e. 4 KiB chunks, each a separate frame through core's boundary scanner, the transport body and a socket write (a syscall-bound profile: 26 s of system time for 4 GiB). The SDK now reads 64 KiB chunks (`crates/sdk/src/upload.rs`, `UPLOAD_CHUNK`), the same as the raw baseline. {}Peak RSS stays at a few MiB either way: the body is streamed, never buffered.\n",
        if up["met"].as_bool() == Some(false) {
            "What remains is core's encoder scanning every byte for the multipart boundary (needed to guarantee a well-formed body) and run-to-run noise on the shared machine. "
        } else {
            ""
        }
    );
    let _ = writeln!(
        o,
        "**7. Images.** The caller holds the four images base64-encoded in `Image` values (4 × 26.7 MB); the launch serializes the whole JSON body into one contiguous buffer before sending (an in-memory body, which lets the transport resend a launch that certainly did not reach the server), so the launch's extra peak is about one body size. Streaming the JSON would save that copy but lose the safe resend.\n"
    );
    o
}
