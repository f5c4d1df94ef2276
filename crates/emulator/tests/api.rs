//! Endpoints, auth, visibility, validation and pagination over real sockets.

mod common;

use base64::Engine as _;
use common::*;
use nomic_agent_emulator::KeyConfig;
use serde_json::{Value, json};

const SUMMARIZE: &str = "019a0000-0000-7000-8000-000000000001";
const REVIEW: &str = "019a0000-0000-7000-8000-000000000002";

async fn upload(emu: &nomic_agent_emulator::RunningEmulator, key: &str, name: &str) -> String {
    let boundary = "XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/pdf\r\n\r\n%PDF-1.4 content\r\n--{boundary}--\r\n"
    );
    let r = try_send(
        emu,
        "POST",
        "/api/v0/files/upload",
        &[
            ("authorization", format!("Bearer {key}")),
            (
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            ),
        ],
        body.into(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()["id"].as_str().unwrap().to_owned()
}

fn issue_paths(v: &Value) -> Vec<String> {
    v["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].to_string())
        .collect()
}

#[tokio::test]
async fn full_agent_round_trip() {
    let (emu, clock) = manual(no_limits()).await;
    let file = upload(&emu, KEY, "report.pdf").await;
    let r = api(
        &emu,
        "POST",
        "/agents",
        Some(json!({"prompt": {"text": "Summarize it"}, "fileIds": [file]})),
    )
    .await;
    assert_eq!(r.status, 201);
    let a = r.json()["data"].clone();
    let id = a["id"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
    assert_eq!(a["status"], "waiting");
    assert_eq!(a["createdAt"], "2026-04-25T12:00:00.000Z");
    assert_eq!(a["createdAt"], a["updatedAt"]);
    assert_eq!(a["artifacts"], json!([]));
    assert_eq!(a["files"][0]["name"], "report.pdf");
    assert_eq!(a["url"], format!("{}/assistant/{id}", emu.origin()));
    assert!(a["projectId"].is_string() && a["workflowId"].is_null() && a["error"].is_null());

    advance(&clock, 500);
    assert_eq!(
        api(&emu, "GET", &format!("/agents/{id}"), None)
            .await
            .json()["data"]["status"],
        "running"
    );
    advance(&clock, 2000);
    let a = api(&emu, "GET", &format!("/agents/{id}"), None)
        .await
        .json()["data"]
        .clone();
    assert_eq!(a["status"], "finished");
    assert_eq!(a["updatedAt"], "2026-04-25T12:00:02.500Z");
    let arts = a["artifacts"].as_array().unwrap().clone();
    assert_eq!(arts.len(), 2);
    assert!(a["summary"].as_str().unwrap().contains("Summarize it"));

    let conv = api(&emu, "GET", &format!("/agents/{id}/conversation"), None)
        .await
        .json();
    let msgs = conv["data"]["messages"].as_array().unwrap();
    let kinds: Vec<&str> = msgs.iter().map(|m| m["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["user", "tool", "tool", "assistant"]);
    assert_eq!(msgs[0]["text"], "Summarize it");
    assert_eq!(msgs[1]["name"], "plan");
    let answer = msgs[3]["text"].as_str().unwrap();
    assert!(
        answer.contains("\"Summarize it\"")
            && answer.contains("report.pdf")
            && answer.contains("Turn 1")
    );

    let doc = arts.iter().find(|x| x["type"] == "document").unwrap();
    let r = api(
        &emu,
        "GET",
        &format!("/agents/{id}/artifacts/{}", doc["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/markdown; charset=utf-8")
    );
    assert!(String::from_utf8_lossy(&r.body).contains("report.pdf"));
    let table = arts.iter().find(|x| x["type"] == "table").unwrap();
    let r = api(
        &emu,
        "GET",
        &format!("/agents/{id}/artifacts/{}", table["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(r.header("content-type"), Some("application/json"));
    let t = r.json();
    assert_eq!(t["columns"], json!(["turn", "prompt", "files", "images"]));
    assert_eq!(t["rows"], json!([[1, "Summarize it", 1, 0]]));
    let missing = uuid::Uuid::now_v7();
    assert_eq!(
        api(
            &emu,
            "GET",
            &format!("/agents/{id}/artifacts/{missing}"),
            None
        )
        .await
        .status,
        404
    );

    assert_eq!(
        api(&emu, "DELETE", &format!("/agents/{id}"), None)
            .await
            .status,
        204
    );
    for path in [
        format!("/agents/{id}"),
        format!("/agents/{id}/conversation"),
    ] {
        let r = api(&emu, "GET", &path, None).await;
        assert_eq!(r.status, 404);
        assert_eq!(r.json()["code"], "not_found");
    }
    assert_eq!(
        api(&emu, "DELETE", &format!("/agents/{id}"), None)
            .await
            .status,
        404
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn auth_scopes_and_user_isolation() {
    let (emu, _clock) = manual(no_limits()).await;
    let add = |key: &str, user: &str, scopes: &[&str]| KeyConfig {
        key: key.into(),
        name: key.into(),
        user: user.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    };
    emu.add_key(add("npk_files", "bob", &["developer:files"]))
        .unwrap();
    emu.add_key(add("npk_agent", "bob", &["developer:agent"]))
        .unwrap();
    emu.add_key(add("npk_other", "carol", &["developer"]))
        .unwrap();

    let r = send(&emu, "GET", "/api/v0/agents", None, None).await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let r = send(&emu, "GET", "/api/v0/agents", Some("npk_wrong"), None).await;
    assert_eq!(r.status, 401);
    let r = send(&emu, "GET", "/api/v0/agents", Some("npk_files"), None).await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (403, Some("forbidden"))
    );
    let r = send(
        &emu,
        "GET",
        "/api/v0/files/search?query=x",
        Some("npk_agent"),
        None,
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        send(
            &emu,
            "GET",
            "/api/v0/files/search?query=x",
            Some("npk_files"),
            None
        )
        .await
        .status,
        200
    );
    assert_eq!(
        send(&emu, "GET", "/api/v0/agents", Some("npk_agent"), None)
            .await
            .status,
        200
    );

    let id = launch(&emu, "mine").await;
    let r = send(
        &emu,
        "GET",
        &format!("/api/v0/agents/{id}"),
        Some("npk_other"),
        None,
    )
    .await;
    assert_eq!(r.status, 404, "other users' agents are invisible");
    let r = send(&emu, "GET", "/api/v0/agents", Some("npk_other"), None).await;
    assert_eq!(r.json()["data"], json!([]));
    let r = send(
        &emu,
        "POST",
        &format!("/api/v0/agents/{id}/stop"),
        Some("npk_other"),
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    // Another user's file is inaccessible: 400.
    let theirs = upload(&emu, "npk_other", "secret.pdf").await;
    let r = api(
        &emu,
        "POST",
        "/agents",
        Some(json!({"prompt": {"text": "x"}, "fileIds": [theirs]})),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(issue_paths(&r.json()), [r#"["fileIds",0]"#]);
    // Counters are per key name and user, never the secret.
    let c = emu.counters();
    assert_eq!(c.agents_created_per_key.get("default"), Some(&1));
    assert_eq!(c.agents_created_per_user.get("local"), Some(&1));
    assert!(!format!("{c:?}").contains("npk_"));
}

#[tokio::test]
async fn launch_validation() {
    let (emu, _clock) = manual(no_limits()).await;
    let file = upload(&emu, KEY, "s.pdf").await;
    let file2 = upload(&emu, KEY, "t.pdf").await;
    let png = base64::engine::general_purpose::STANDARD
        .encode([0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 1]);
    let gif = base64::engine::general_purpose::STANDARD.encode(b"GIF89a....");
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({}), vec![r#"["prompt","text"]"#]),
        (
            json!({"prompt": {"text": " \n"}}),
            vec![r#"["prompt","text"]"#],
        ),
        (json!({"prompt": {}}), vec![r#"["prompt","text"]"#]),
        (
            json!({"workflowId": SUMMARIZE, "prompt": {"text": "x"}, "fileIds": [file]}),
            vec![r#"["fileIds"]"#],
        ),
        (
            json!({"prompt": {"text": "x"}, "inputs": {"submittal": [file]}}),
            vec![r#"["inputs"]"#, r#"["inputs"]"#],
        ),
        (
            json!({"workflowId": REVIEW, "prompt": {"text": "x"}, "inputs": {"submittal": [file]}}),
            vec![r#"["inputs"]"#],
        ),
        (
            json!({"workflowId": REVIEW, "prompt": {"text": "x"}}),
            vec![r#"["prompt"]"#, r#"["inputs"]"#],
        ),
        (json!({"workflowId": REVIEW}), vec![r#"["inputs"]"#]),
        (
            json!({"workflowId": REVIEW, "inputs": {"submittal": [file], "extra": [file]}}),
            vec![r#"["inputs","extra"]"#],
        ),
        (
            json!({"workflowId": REVIEW, "inputs": {"submittal": []}}),
            vec![r#"["inputs","submittal"]"#],
        ),
        (
            json!({"workflowId": REVIEW, "inputs": {"specifications": [file]}}),
            vec![r#"["inputs","submittal"]"#],
        ),
        (
            json!({"workflowId": REVIEW, "inputs": {"submittal": [file, file2]}}),
            vec![r#"["inputs","submittal"]"#],
        ),
        (
            json!({"workflowId": SUMMARIZE, "inputs": {"x": [file]}}),
            vec![r#"["inputs"]"#, r#"["prompt","text"]"#],
        ),
        (
            json!({"workflowId": "not-a-uuid", "prompt": {"text": "x"}}),
            vec![r#"["workflowId"]"#],
        ),
        (
            json!({"prompt": {"text": "x"}, "fileIds": ["019a0000-0000-7000-8000-0000000000aa"]}),
            vec![r#"["fileIds",0]"#],
        ),
        (
            json!({"prompt": {"text": "x"}, "projectId": 5}),
            vec![r#"["projectId"]"#],
        ),
        (
            json!({"prompt": {"text": "x", "images": [{"media_type": "image/jpeg", "data": png}]}}),
            vec![r#"["prompt","images",0,"data"]"#],
        ),
        (
            json!({"prompt": {"text": "x", "images": [{"media_type": "image/png", "data": format!("data:image/png;base64,{png}")}]}}),
            vec![r#"["prompt","images",0,"data"]"#],
        ),
        (
            json!({"prompt": {"text": "x", "images": [{"media_type": "image/tiff", "data": png}]}}),
            vec![r#"["prompt","images",0,"media_type"]"#],
        ),
        (
            json!({"workflowId": REVIEW, "prompt": {"text": "x", "images": [{"media_type": "image/png", "data": png}]}, "inputs": {"submittal": [file]}}),
            vec![r#"["inputs"]"#],
        ),
    ];
    for (body, want) in cases {
        let r = api(&emu, "POST", "/agents", Some(body.clone())).await;
        assert_eq!(r.status, 400, "{body}");
        let v = r.json();
        assert_eq!(v["code"], "bad_request");
        assert!(v["error"].is_string());
        assert_eq!(issue_paths(&v), want, "{body}");
    }
    let r = api(
        &emu,
        "POST",
        "/agents",
        Some(json!({"workflowId": uuid::Uuid::now_v7()})),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (404, Some("not_found"))
    );
    let r = try_send(
        &emu,
        "POST",
        "/api/v0/agents",
        &[("authorization", format!("Bearer {KEY}"))],
        "{not json".into(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(
        emu.counters().agents_created_per_user.len(),
        0,
        "nothing was created"
    );

    // The valid forms.
    let ok = [
        json!({"workflowId": REVIEW, "inputs": {"submittal": [file], "specifications": [file, file2]}}),
        json!({"workflowId": SUMMARIZE, "prompt": {"text": "x", "images": [{"media_type": "image/png", "data": png}, {"media_type": "image/gif", "data": gif}]}}),
        json!({"prompt": {"text": "x"}, "mode": "background_agent", "projectId": uuid::Uuid::now_v7()}),
    ];
    for body in ok {
        let r = api(&emu, "POST", "/agents", Some(body.clone())).await;
        assert_eq!(
            r.status,
            201,
            "{body}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
}

#[tokio::test]
async fn workflow_answers_name_the_workflow_slots_and_images() {
    let (emu, clock) = manual(no_limits()).await;
    let file = upload(&emu, KEY, "sub.pdf").await;
    let r = api(
        &emu,
        "POST",
        "/agents",
        Some(json!({"workflowId": REVIEW, "inputs": {"submittal": [file]}})),
    )
    .await;
    let id = r.json()["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["data"]["workflowId"], REVIEW);
    let png = base64::engine::general_purpose::STANDARD
        .encode([0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]);
    let r = api(&emu, "POST", "/agents", Some(json!({"workflowId": SUMMARIZE, "prompt": {"text": "look", "images": [{"media_type": "image/png", "data": png}]}}))).await;
    let id2 = r.json()["data"]["id"].as_str().unwrap().to_owned();
    advance(&clock, 10_000);
    let conv = api(&emu, "GET", &format!("/agents/{id}/conversation"), None)
        .await
        .json();
    let answer = conv["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["type"] == "assistant")
        .unwrap()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        answer.contains("Submittal review") && answer.contains("submittal = [sub.pdf]"),
        "{answer}"
    );
    let conv = api(&emu, "GET", &format!("/agents/{id2}/conversation"), None)
        .await
        .json();
    let answer = conv["data"]["messages"][2]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        answer.contains("Images: 1 (image/png)") && answer.contains("Summarize documents"),
        "{answer}"
    );

    let w = api(&emu, "GET", "/workflows", None).await.json();
    let ws = w["data"].as_array().unwrap();
    assert_eq!(ws.len(), 2);
    assert_eq!(ws[0]["inputs"], json!([]));
    assert_eq!(
        ws[1]["inputs"][0],
        json!({"name": "submittal", "description": "The submittal package", "required": true, "multiple": false})
    );
    let p = api(&emu, "GET", "/workflows?limit=1", None).await.json();
    assert_eq!(p["nextCursor"], SUMMARIZE);
    let p2 = api(
        &emu,
        "GET",
        &format!("/workflows?limit=1&cursor={SUMMARIZE}"),
        None,
    )
    .await
    .json();
    assert_eq!(p2["data"][0]["id"], REVIEW);
    assert!(p2["nextCursor"].is_null());
    assert_eq!(
        api(&emu, "GET", "/workflows?limit=0", None).await.status,
        400
    );
}

#[tokio::test]
async fn listing_pages_newest_first_with_filters() {
    let (emu, clock) = manual(no_limits()).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(launch(&emu, &format!("agent {i} [never]")).await);
        // Two agents share each millisecond: ties are broken by id.
        if i % 2 == 1 {
            advance(&clock, 1);
        }
    }
    let fin = {
        let r = api(
            &emu,
            "POST",
            "/agents",
            Some(json!({"workflowId": SUMMARIZE, "prompt": {"text": "wf"}})),
        )
        .await;
        r.json()["data"]["id"].as_str().unwrap().to_owned()
    };
    advance(&clock, 5_000);
    let all = api(&emu, "GET", "/agents?limit=100", None).await.json();
    let got: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(got.len(), 6);
    assert_eq!(got[0], fin);
    let mut keys: Vec<(String, String)> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["createdAt"].as_str().unwrap().to_owned(),
                a["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let sorted = {
        let mut k = keys.clone();
        k.sort();
        k.reverse();
        k
    };
    assert_eq!(keys, sorted, "newest first, ties by id descending");
    keys.clear();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/agents?limit=2&cursor={c}"),
            None => "/agents?limit=2".into(),
        };
        let page = api(&emu, "GET", &q, None).await.json();
        for a in page["data"].as_array().unwrap() {
            seen.push(a["id"].as_str().unwrap().to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, got, "pages concatenate to the full list");

    let running = api(&emu, "GET", "/agents?status=running,waiting", None)
        .await
        .json();
    assert_eq!(running["data"].as_array().unwrap().len(), 5);
    let finished = api(&emu, "GET", "/agents?status=finished", None)
        .await
        .json();
    assert_eq!(finished["data"][0]["id"], fin.as_str());
    let wf = api(
        &emu,
        "GET",
        &format!("/agents?workflowId={SUMMARIZE}"),
        None,
    )
    .await
    .json();
    assert_eq!(wf["data"].as_array().unwrap().len(), 1);
    for bad in [
        "limit=0",
        "limit=101",
        "limit=abc",
        "status=bogus",
        "cursor=nope",
        "workflowId=x",
        "cursor=019a0000-0000-7000-8000-0000000000aa",
    ] {
        let r = api(&emu, "GET", &format!("/agents?{bad}"), None).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.json()["code"], "bad_request");
    }
    assert_eq!(
        api(&emu, "GET", "/agents?limit=100", None).await.status,
        200
    );
    assert_eq!(
        api(&emu, "GET", "/agents/not-a-uuid", None).await.status,
        400
    );
    assert_eq!(api(&emu, "PUT", "/agents", None).await.status, 405);
    assert_eq!(api(&emu, "GET", "/nothing", None).await.status, 404);
}

#[tokio::test]
async fn same_seed_same_ids_and_answers() {
    let run = |seed: u64| async move {
        let cfg = nomic_agent_emulator::EmulatorConfig {
            seed,
            ..no_limits()
        };
        let (emu, clock) = manual(cfg).await;
        let a = launch(&emu, "deterministic").await;
        advance(&clock, 5000);
        let conv = api(&emu, "GET", &format!("/agents/{a}/conversation"), None)
            .await
            .json();
        let mut agent = api(&emu, "GET", &format!("/agents/{a}"), None).await.json();
        // The url names the (random) port; everything else must match.
        agent["data"]["url"] = Value::Null;
        (agent, conv)
    };
    let first = run(42).await;
    assert_eq!(first, run(42).await);
    assert_ne!(first.0["data"]["id"], run(43).await.0["data"]["id"]);
}
