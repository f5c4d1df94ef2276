//! Benchmark 6: a 1 GiB file streamed through the SDK vs raw hyper streaming (throughput and
//! peak RSS), and benchmark 7: four 20 MB images in one launch (peak RSS vs the body size).
//!
//! The server is a raw hyper sink in the parent process; each client runs in its own child
//! process, whose peak RSS (`VmHWM`) is reset right before the transfer (`/proc/self/clear_refs`)
//! so setup memory is not counted.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use nomic_agent::{Image, LaunchRequest, PollSchedule};
use serde_json::{Value, json};
use tokio_util::io::ReaderStream;

use crate::common::*;
use crate::results::images::Images;
use crate::results::upload::Upload;

const GIB: u64 = 1 << 30;

/// Resets this process's peak RSS to its current RSS.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn upload_file() -> BenchResult<PathBuf> {
    let dir = PathBuf::from("target/bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("upload-1GiB.bin");
    if std::fs::metadata(&path).map(|m| m.len()).ok() != Some(GIB) {
        // Sparse: reads as zeros at memory speed and takes no disk space.
        std::fs::File::create(&path)?.set_len(GIB)?;
    }
    Ok(path)
}

/// Child: upload `path` to `base` with `mode` (`sdk` or `raw`).
pub async fn upload_child(base: &str, mode: &str, path: &Path) -> BenchResult<Value> {
    let len = std::fs::metadata(path)?.len();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (rss0, _) = rss_kib();
    reset_peak();
    let cpu0 = cpu_seconds();
    let t = Instant::now();
    match mode {
        "sdk" => {
            let client = sdk_client(base, "npk_bench", None, PollSchedule::default())?;
            client.upload_path(path).await?;
        }
        "raw" => {
            let mut http = HttpConnector::new();
            http.set_nodelay(true);
            let client: HyperClient<HttpConnector, BoxBody<Bytes, std::io::Error>> =
                HyperClient::builder(TokioExecutor::new())
                    .pool_idle_timeout(Duration::from_secs(90))
                    .pool_timer(TokioTimer::new())
                    .timer(TokioTimer::new())
                    .build(http);
            let boundary = "raw-bench-boundary-5f2c7d1e9a";
            let pre = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload-1GiB.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            );
            let post = format!("\r\n--{boundary}--\r\n");
            let total = pre.len() as u64 + len + post.len() as u64;
            let file = tokio::fs::File::open(path).await?;
            let stream = futures_util::stream::once(async move { Ok(Bytes::from(pre)) })
                .chain(ReaderStream::with_capacity(file, 64 * 1024))
                .chain(futures_util::stream::once(
                    async move { Ok(Bytes::from(post)) },
                ))
                .map(|r| r.map(Frame::data));
            let body = BoxBody::new(StreamBody::new(stream));
            let req = http::Request::post(format!("{base}/files/upload"))
                .header(http::header::AUTHORIZATION, "Bearer npk_bench")
                .header(
                    http::header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .header(http::header::CONTENT_LENGTH, total)
                .body(body)?;
            let resp = client.request(req).await?;
            if resp.status() != 201 {
                return Err(err(format!("HTTP {}", resp.status())));
            }
            resp.into_body().collect().await?;
        }
        other => return Err(err(format!("unknown mode {other}"))),
    }
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let (_, peak) = rss_kib();
    Ok(
        json!({"mode": mode, "bytes": len, "seconds": secs, "cpu_seconds": cpu,
              "mib_per_s": round(len as f64 / secs / 1048576.0, 1),
              "rss_start_kib": rss0, "peak_rss_kib": peak}),
    )
}

fn run_upload_child(base: &str, mode: &str, path: &Path) -> BenchResult<Value> {
    run_child(&[
        "upload-child".into(),
        base.into(),
        mode.into(),
        path.display().to_string(),
    ])
}

pub async fn bench_upload(quick: bool) -> BenchResult<Upload> {
    let sink = Sink::start().await?;
    let base = sink.base_url();
    let path = upload_file()?;
    // Three in quick mode: two runs on a shared machine were too noisy to read (0.2–1.07×).
    let reps = if quick { 3 } else { 5 };
    let mut ratios = Vec::new();
    let mut sdk_peak = Vec::new();
    let mut raw_peak = Vec::new();
    let mut sdk_tp = Vec::new();
    let mut raw_tp = Vec::new();
    let mut cpu = [Vec::new(), Vec::new()];
    for rep in 0..reps {
        let order = if rep % 2 == 0 {
            ["sdk", "raw"]
        } else {
            ["raw", "sdk"]
        };
        let mut got = [0.0f64; 2];
        for mode in order {
            let (b, p, m) = (base.clone(), path.clone(), mode.to_owned());
            let v = tokio::task::spawn_blocking(move || run_upload_child(&b, &m, &p)).await??;
            let tp = v["mib_per_s"].as_f64().unwrap_or(0.0);
            let peak = v["peak_rss_kib"].as_f64().unwrap_or(0.0) / 1024.0;
            cpu[usize::from(mode != "sdk")].push(v["cpu_seconds"].as_f64().unwrap_or(0.0));
            if mode == "sdk" {
                got[0] = tp;
                sdk_peak.push(peak);
                sdk_tp.push(tp);
            } else {
                got[1] = tp;
                raw_peak.push(peak);
                raw_tp.push(tp);
            }
        }
        ratios.push(got[0] / got[1]);
    }
    let received = sink.stats.body_bytes.load(Ordering::Relaxed);
    let v = Upload {
        file_bytes: GIB,
        reps: reps as u32,
        throughput_ratio_sdk_vs_raw: round(median(&ratios), 3),
        sdk_mib_per_s: round(median(&sdk_tp), 0),
        raw_mib_per_s: round(median(&raw_tp), 0),
        sdk_peak_rss_mib: round(median(&sdk_peak), 1),
        raw_peak_rss_mib: round(median(&raw_peak), 1),
        ratios_per_rep: ratios.iter().map(|r| round(*r, 2)).collect(),
        cpu_s_per_gib_sdk: Some(round(median(&cpu[0]), 2)),
        cpu_s_per_gib_raw: Some(round(median(&cpu[1]), 2)),
        sink_bytes_received: Some(received),
    };
    eprintln!("upload: {v:?}");
    Ok(v)
}

/// 20 MB of PNG-tagged pseudo-random bytes (incompressible, like real image data).
fn fake_png(seed: u64) -> Vec<u8> {
    let n = 20_000_000;
    let mut v = Vec::with_capacity(n);
    v.extend_from_slice(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]);
    let mut x = seed | 1;
    while v.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(n);
    v
}

/// Child: launch one agent with four 20 MB images through the SDK.
pub async fn images_child(base: &str) -> BenchResult<Value> {
    let client = sdk_client(base, "npk_bench", None, PollSchedule::default())?;
    let (rss0, _) = rss_kib();
    let mut req = LaunchRequest::prompt("Review these four site photos.");
    for i in 0..4 {
        let raw = fake_png(i + 1);
        req = req.image(Image::from_bytes(&raw)?);
    }
    let (rss_images, _) = rss_kib();
    reset_peak();
    let agent = client.launch(req).await?;
    drop(agent);
    let (_, peak) = rss_kib();
    Ok(json!({"rss_start_kib": rss0, "rss_with_images_kib": rss_images, "peak_rss_kib": peak}))
}

pub async fn bench_images(_quick: bool) -> BenchResult<Images> {
    let sink = Sink::start().await?;
    let base = sink.base_url();
    let mut runs = Vec::new();
    for _ in 0..3 {
        let b = base.clone();
        runs.push(
            tokio::task::spawn_blocking(move || run_child(&["images-child".into(), b])).await??,
        );
    }
    let body = sink.stats.body_bytes.load(Ordering::Relaxed) as f64 / runs.len() as f64;
    let field = |name: &str| -> BenchResult<f64> {
        let per = runs
            .iter()
            .map(|r| {
                r[name]
                    .as_f64()
                    .ok_or_else(|| err(format!("images-child: no {name}")))
            })
            .collect::<BenchResult<Vec<f64>>>()?;
        Ok(median(&per))
    };
    let start = field("rss_start_kib")?;
    let with_images = field("rss_with_images_kib")?;
    let peak = field("peak_rss_kib")?;
    let mib = |kib: f64| round(kib / 1024.0, 3);
    let v = Images {
        runs: runs.len() as u32,
        request_body_mib: round(body / 1048576.0, 3),
        images_in_memory_mib: mib(with_images - start),
        launch_extra_mib: mib(peak - with_images),
    };
    eprintln!("images: {v:?}");
    Ok(v)
}
