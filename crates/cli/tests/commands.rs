//! The commands on existing agents, files and workflows, and `chat`; `--json` prints the API
//! objects as returned.

mod common;

use common::{Emu, Out, asset, keys};

#[test]
fn status_conversation_and_answer() {
    let e = Emu::start();
    let id = e.finished("What is on level 2?");

    let s = e.run(&["status", &id, "--json"]);
    s.code(0);
    let agent = s.json();
    assert_eq!(agent["id"], id.as_str());
    assert_eq!(agent["status"], "finished");
    assert!(agent["createdAt"].is_string() && agent["updatedAt"].is_string());
    let human = e.run(&["status", &id]);
    human.code(0);
    assert!(human.stdout.contains("status:    finished"), "{human}");

    let c = e.run(&["conversation", &id, "--json"]);
    c.code(0);
    let msgs = c.json()["messages"].as_array().unwrap().clone();
    assert_eq!(msgs[0]["type"], "user");
    assert_eq!(msgs[0]["text"], "What is on level 2?");
    assert!(msgs.iter().any(|m| m["type"] == "assistant"));
    let human = e.run(&["conversation", &id]);
    assert!(
        human.stdout.starts_with("[user] What is on level 2?"),
        "{human}"
    );

    let a = e.run(&["answer", &id, "--json"]);
    a.code(0);
    let doc = a.json();
    assert_eq!(keys(&doc), ["agentId", "answer"]);
    assert!(
        doc["answer"]
            .as_str()
            .unwrap()
            .contains("What is on level 2?")
    );
    let human = e.run(&["answer", &id]);
    assert_eq!(human.stdout.trim(), doc["answer"].as_str().unwrap().trim());
}

#[test]
fn artifacts_list_and_save() {
    let e = Emu::start();
    let id = e.finished("Make a report");
    let l = e.run(&["artifacts", &id, "--json"]);
    l.code(0);
    let arts = l.json().as_array().unwrap().clone();
    assert_eq!(arts.len(), 2, "{l}");
    for a in &arts {
        assert!(a["id"].is_string() && a["title"].is_string() && a["type"].is_string());
        assert!(a["version"].is_number(), "{a}");
    }
    let out_dir = e.dir.path().join("out");
    let s = e.run(&["artifacts", &id, "--out", out_dir.to_str().unwrap()]);
    s.code(0);
    let doc = std::fs::read_to_string(out_dir.join("Answer.md")).unwrap();
    assert!(doc.contains("Make a report"), "{doc}");
    let table: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("Turns.json")).unwrap()).unwrap();
    assert!(table["columns"].is_array() && table["rows"].is_array());
    assert!(s.stdout.contains("Answer"), "{s}");
}

#[test]
fn stop_and_delete() {
    let e = Emu::start();
    let id = e.launch("[never] long job");
    let s = e.run(&["stop", &id]);
    s.code(0);
    assert!(s.stdout.contains(&id), "{s}");
    // Stopping again conflicts with the terminal status.
    e.run(&["stop", &id]).code(4);

    let d = e.run(&["delete", &id, "--json"]);
    d.code(0);
    assert_eq!(
        d.json(),
        serde_json::json!({"agentId": id, "deleted": true})
    );
    e.run(&["status", &id]).code(4);
}

#[test]
fn list_pages_filters_and_all() {
    let e = Emu::start();
    let a = e.finished("one");
    let b = e.finished("two");
    let c = e.launch("[never] three");

    let all = e.run(&["list", "--json"]);
    all.code(0);
    let ids: Vec<String> = all
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect();
    for id in [&a, &b, &c] {
        assert!(ids.contains(id), "{id} missing from {ids:?}");
    }

    let page = e.run(&["list", "--limit", "1", "--json"]);
    assert_eq!(page.json().as_array().unwrap().len(), 1);
    let every = e.run(&["list", "--limit", "1", "--all", "--json"]);
    assert_eq!(every.json().as_array().unwrap().len(), 3, "{every}");

    let finished = e.run(&["list", "--status", "finished", "--json"]);
    let got = finished.json();
    let got = got.as_array().unwrap();
    assert_eq!(got.len(), 2, "{finished}");
    assert!(got.iter().all(|x| x["status"] == "finished"));

    let human = e.run(&["list"]);
    human.code(0);
    assert_eq!(human.stdout.lines().count(), 3, "{human}");
}

#[test]
fn upload_search_and_workflows() {
    let e = Emu::start();
    let report = asset("inspection-report.md");
    let u = e.run(&["upload", report.to_str().unwrap(), "--json"]);
    u.code(0);
    let file = u.json();
    assert_eq!(file["name"], "inspection-report.md");
    let fid = file["id"].as_str().unwrap().to_owned();

    let placed = e.run(&[
        "upload",
        report.to_str().unwrap(),
        "--path",
        "reports/2026",
        "--json",
    ]);
    placed.code(0);
    assert!(placed.json()["id"].is_string());
    // `--path` made a folder; `--parent` puts the next upload into it.
    let folder = placed.json()["parentId"]
        .as_str()
        .expect("a folder")
        .to_owned();
    let child = e.run(&[
        "upload",
        report.to_str().unwrap(),
        "--parent",
        &folder,
        "--json",
    ]);
    child.code(0);
    assert_eq!(child.json()["parentId"], folder.as_str());
    e.run(&["upload", report.to_str().unwrap(), "--parent", "nope"])
        .code(2);
    // A folder the server does not know: rejected as invalid (400), exit 2.
    let unknown = "019abc12-3456-7890-abcd-ef1234567890";
    e.run(&["upload", report.to_str().unwrap(), "--parent", unknown])
        .code(2);

    let s = e.run(&["files", "search", "inspection", "--json"]);
    s.code(0);
    let hits = s.json();
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"] == fid.as_str()),
        "{s}"
    );
    let human = e.run(&["files", "search", "inspection", "--limit", "1"]);
    human.code(0);
    assert_eq!(human.stdout.lines().count(), 1, "{human}");

    // The uploaded id can be attached by id.
    let r = e.run(&["run", "Read it", "--file-id", &fid, "--json"]);
    r.code(0);
    assert!(
        r.json()["answer"]
            .as_str()
            .unwrap()
            .contains("inspection-report.md")
    );

    let w = e.run(&["workflows", "--json"]);
    w.code(0);
    let wfs = w.json();
    let wfs = wfs.as_array().unwrap();
    assert!(wfs.len() >= 2, "{w}");
    assert!(
        wfs.iter()
            .all(|x| x["id"].is_string() && x["name"].is_string())
    );
    let human = e.run(&["workflows"]);
    assert_eq!(human.stdout.lines().count(), wfs.len(), "{human}");
}

#[test]
fn chat_keeps_one_agent_per_thread_across_runs() {
    let e = Emu::start();
    let store = e.dir.path().join("sessions.json");
    let store = store.to_str().unwrap();
    let out = Out::with_stdin(
        e.cmd(&["chat", "--thread", "site-c", "--store", store, "--json"]),
        "First message\n\n/quit\nnever sent\n",
    );
    out.code(0);
    let doc = out.json();
    assert_eq!(doc["thread"], "site-c");
    let id = doc["agentId"].as_str().unwrap().to_owned();
    assert_eq!(doc["turns"].as_array().unwrap().len(), 1, "{out}");

    // A later run continues the same agent: follow-ups, never a new launch.
    let out = Out::with_stdin(
        e.cmd(&["chat", "--thread", "site-c", "--store", store]),
        "Second message\nThird message\n",
    );
    out.code(0);
    let answers: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(answers.len(), 2, "{out}");
    assert!(answers[0].contains("Turn 2") && answers[0].contains("Second message"));
    assert!(answers[1].contains("Turn 3") && answers[1].contains("Third message"));
    // The store's layout is the SDK's business; it must name the thread's agent.
    let saved = std::fs::read_to_string(e.dir.path().join("sessions.json")).unwrap();
    assert!(saved.contains("site-c") && saved.contains(&id), "{saved}");
    assert_eq!(
        e.emu().counters().agents_created_per_user.get(common::USER),
        Some(&1)
    );
}

#[test]
fn chat_rejects_a_corrupt_store() {
    let e = Emu::start();
    let store = e.dir.path().join("bad.json");
    std::fs::write(&store, "[1, 2]").unwrap();
    let out = Out::with_stdin(e.cmd(&["chat", "--store", store.to_str().unwrap()]), "hi\n");
    out.code(2);
    assert_eq!(e.requests(), 0);
}
