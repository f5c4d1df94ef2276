//! Multipart uploads (awkward names, boundary-like content, limits) and file search.

mod common;

use bytes::Bytes;
use common::*;
use serde_json::{Value, json};

fn fnv(b: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h = (h ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

struct Part<'a> {
    name: &'a str,
    filename: Option<&'a str>,
    content_type: Option<&'a str>,
    data: &'a [u8],
}

fn multipart(boundary: &str, parts: &[Part<'_>]) -> Bytes {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut cd = format!("Content-Disposition: form-data; name=\"{}\"", p.name);
        if let Some(f) = p.filename {
            cd.push_str(&format!("; filename=\"{f}\""));
        }
        out.extend_from_slice(cd.as_bytes());
        out.extend_from_slice(b"\r\n");
        if let Some(ct) = p.content_type {
            out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(p.data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out.into()
}

async fn post_upload(
    emu: &nomic_agent_emulator::RunningEmulator,
    boundary: &str,
    body: Bytes,
) -> Resp {
    try_send(
        emu,
        "POST",
        "/api/v0/files/upload",
        &[
            ("authorization", format!("Bearer {KEY}")),
            (
                "content-type",
                format!("multipart/form-data; boundary=\"{boundary}\""),
            ),
        ],
        body,
    )
    .await
    .unwrap()
}

fn file<'a>(filename: &'a str, data: &'a [u8]) -> Part<'a> {
    Part {
        name: "file",
        filename: Some(filename),
        content_type: Some("application/pdf"),
        data,
    }
}

#[tokio::test]
async fn uploads_keep_awkward_names_and_boundary_like_bytes() {
    let (emu, _clock) = manual(no_limits()).await;
    let boundary = "----b0undary";
    // Content that looks like boundaries and headers but is not preceded by CRLF--boundary.
    let mut data =
        b"----b0undary\r\n--not-it\r\nContent-Disposition: fake\r\n\r\n-----b0undar".to_vec();
    data.extend((0..=255u8).cycle().take(70_000));
    data.extend_from_slice(b"\r\n--b0undary-ish\r\n");
    let names = [
        "quarterly report (final) #2.pdf",
        "ünïcødé 文件.pdf",
        "semi;colon = 'quotes'.pdf",
        "   spaced   .txt",
    ];
    let mut ids = Vec::new();
    for n in names {
        let r = post_upload(&emu, boundary, multipart(boundary, &[file(n, &data)])).await;
        assert_eq!(r.status, 201, "{n}: {}", String::from_utf8_lossy(&r.body));
        let v = r.json();
        assert_eq!(v["name"], n);
        assert_eq!(v["size"], data.len());
        assert_eq!(v["fileType"], "DOCUMENT");
        assert_eq!(v["mimeType"], "application/pdf");
        assert!(
            v["parentId"].is_null() && v["fileVersionId"].is_string() && v["createdAt"].is_string()
        );
        assert!(v.get("data").is_none(), "bare object, no envelope");
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let files = control(&emu, "GET", "/files", None).await.json();
    for f in files["data"].as_array().unwrap() {
        assert_eq!(f["checksum"], fnv(&data), "content arrived intact");
    }

    // path creates folders; parentId nests under one; search finds by substring.
    let r = post_upload(
        &emu,
        "B",
        multipart(
            "B",
            &[
                Part {
                    name: "path",
                    filename: None,
                    content_type: None,
                    data: "Project Alpha/reports/q1.pdf".as_bytes(),
                },
                file("ignored.pdf", b"x"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, 201);
    let q1 = r.json();
    assert_eq!(q1["name"], "q1.pdf");
    let reports = q1["parentId"].as_str().unwrap().to_owned();
    let r = post_upload(
        &emu,
        "B",
        multipart(
            "B",
            &[
                file("q2.txt", b"hello"),
                Part {
                    name: "parentId",
                    filename: None,
                    content_type: None,
                    data: reports.as_bytes(),
                },
                Part {
                    name: "unknown",
                    filename: None,
                    content_type: None,
                    data: b"ignored",
                },
            ],
        ),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["parentId"], reports.as_str());
    assert_eq!(
        r.json()["mimeType"],
        "application/pdf",
        "the part's content type wins"
    );

    let s = api(&emu, "GET", "/files/search?query=Q1", None)
        .await
        .json();
    assert_eq!(s["data"][0]["path"], "Project%20Alpha/reports/q1.pdf");
    assert_eq!(s["data"][0]["parentId"], reports.as_str());
    let s = api(&emu, "GET", "/files/search?query=%C3%BCn%C3%AF", None)
        .await
        .json();
    assert_eq!(s["data"][0]["name"], names[1]);
    let page = api(&emu, "GET", "/files/search?query=.&limit=2", None)
        .await
        .json();
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    let next = page["nextCursor"].as_str().unwrap();
    let page2 = api(
        &emu,
        "GET",
        &format!("/files/search?query=.&limit=50&cursor={next}"),
        None,
    )
    .await
    .json();
    assert_eq!(page2["data"].as_array().unwrap().len(), 4);
    assert!(page2["nextCursor"].is_null());
    let integ = api(
        &emu,
        "GET",
        &format!(
            "/files/search?query=q&integrationId={}",
            uuid::Uuid::now_v7()
        ),
        None,
    )
    .await
    .json();
    assert_eq!(integ["data"], json!([]));
    for bad in [
        "",
        "?query=",
        "?query=x&limit=51",
        "?query=x&limit=0",
        "?query=x&integrationId=nope",
        "?query=x&cursor=zzz",
    ] {
        assert_eq!(
            api(&emu, "GET", &format!("/files/search{bad}"), None)
                .await
                .status,
            400,
            "{bad}"
        );
    }
    assert_eq!(ids.len(), 4);
}

#[tokio::test]
async fn upload_errors() {
    let mut cfg = no_limits();
    cfg.limits.max_upload_bytes = 1000;
    cfg.limits.max_multipart_parts = 3;
    let (emu, _clock) = manual(cfg).await;
    let check = |r: &Resp, status: u16, code: &str| {
        assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.json()["code"], code);
    };
    // Over the limit, while streaming (no Content-Length check can catch it: it is small enough).
    let big = vec![b'a'; 1001];
    check(
        &post_upload(&emu, "B", multipart("B", &[file("big.pdf", &big)])).await,
        413,
        "payload_too_large",
    );
    // A much larger body is refused too (before reading once Content-Length exceeds the budget).
    let huge = vec![b'a'; 200_000];
    check(
        &post_upload(&emu, "B", multipart("B", &[file("huge.pdf", &huge)])).await,
        413,
        "payload_too_large",
    );
    let ok = vec![b'a'; 1000];
    assert_eq!(
        post_upload(&emu, "B", multipart("B", &[file("ok.pdf", &ok)]))
            .await
            .status,
        201
    );
    check(
        &post_upload(&emu, "B", multipart("B", &[file("empty.pdf", b"")])).await,
        400,
        "bad_request",
    );
    let none = multipart(
        "B",
        &[Part {
            name: "path",
            filename: None,
            content_type: None,
            data: b"a.pdf",
        }],
    );
    let r = post_upload(&emu, "B", none).await;
    check(&r, 400, "bad_request");
    assert_eq!(r.json()["issues"][0]["path"], json!(["file"]));
    let many: Vec<Part<'_>> = (0..4)
        .map(|_| Part {
            name: "x",
            filename: None,
            content_type: None,
            data: b"1",
        })
        .collect();
    check(
        &post_upload(&emu, "B", multipart("B", &many)).await,
        400,
        "bad_request",
    );
    let two = multipart("B", &[file("a.pdf", b"1"), file("b.pdf", b"2")]);
    check(&post_upload(&emu, "B", two).await, 400, "bad_request");
    for path in ["a//b.pdf", "../x.pdf"] {
        let body = multipart(
            "B",
            &[
                file("a.pdf", b"1"),
                Part {
                    name: "path",
                    filename: None,
                    content_type: None,
                    data: path.as_bytes(),
                },
            ],
        );
        check(&post_upload(&emu, "B", body).await, 400, "bad_request");
    }
    let body = multipart(
        "B",
        &[
            file("a.pdf", b"1"),
            Part {
                name: "parentId",
                filename: None,
                content_type: None,
                data: b"019a0000-0000-7000-8000-0000000000aa",
            },
        ],
    );
    check(&post_upload(&emu, "B", body).await, 400, "bad_request");
    let r = try_send(
        &emu,
        "POST",
        "/api/v0/files/upload",
        &[
            ("authorization", format!("Bearer {KEY}")),
            ("content-type", "application/json".into()),
        ],
        "{}".into(),
    )
    .await
    .unwrap();
    check(&r, 400, "bad_request");
    let r = try_send(
        &emu,
        "POST",
        "/api/v0/files/upload",
        &[
            ("authorization", format!("Bearer {KEY}")),
            ("content-type", "multipart/form-data; boundary=B".into()),
        ],
        "garbage".into(),
    )
    .await
    .unwrap();
    check(&r, 400, "bad_request");
    let files: Value = control(&emu, "GET", "/files", None).await.json();
    assert_eq!(
        files["data"].as_array().unwrap().len(),
        1,
        "only the valid upload was stored"
    );
}
