//! Server text never reaches a terminal raw: the real binary against a server whose every
//! string carries ESC, BEL, CR, NUL, DEL, C1 and bidi controls. Human output (stdout, stderr,
//! logs) holds none of them, only their visible `\u{…}` form; `--json` output holds none of
//! them raw either, and parses back to the exact strings the server sent.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use nomic_agent_tests::hostile::{Hostile, Reply, Script, Seen};
use serde_json::{Value, json};

use common::{FAST, SECRET, bare};

/// Every control a terminal might obey, in the middle of text.
const NASTY: &str =
    "\u{1b}[31m\u{1b}]0;owned\u{7}\u{7f}\u{9b}2J\u{85}\u{8d}\r\u{202e}\u{2066}\u{0}\u{8}";
/// [`NASTY`] as `docs/cli.md` says it is shown.
const SHOWN: &str = "\\u{1b}[31m\\u{1b}]0;owned\\u{7}\\u{7f}\\u{9b}2J\\u{85}\\u{8d}\\u{d}\\u{202e}\\u{2066}\\u{0}\\u{8}";

/// A finished agent whose every string field is hostile.
const A: &str = "019abc12-3456-7890-abcd-ef12345678a1";
/// An agent that first shows a hostile unknown status, then fails with a hostile error.
const B: &str = "019abc12-3456-7890-abcd-ef12345678b2";
/// The agent `run` and `chat` launch.
const C: &str = "019abc12-3456-7890-abcd-ef12345678c3";
/// An agent the server refuses with a hostile error body.
const E: &str = "019abc12-3456-7890-abcd-ef12345678e4";
const ART: &str = "019abc12-3456-7890-abcd-ef12345678f5";
const FILE: &str = "019abc12-3456-7890-abcd-ef12345678f6";
const WF: &str = "019abc12-3456-7890-abcd-ef12345678f7";

/// A hostile string, tagged so each field can be told apart.
fn nasty(label: &str) -> String {
    format!("{label}<{NASTY}>")
}

/// How [`nasty`]`(label)` must look in human output.
fn shown(label: &str) -> String {
    format!("{label}<{SHOWN}>")
}

/// Not allowed raw in any output: C0 but `\n` and `\t`, DEL, C1, bidi controls. Written out
/// here, apart from the CLI's own definition, so the test checks the documented rule.
fn forbidden(c: char) -> bool {
    (c < ' ' && c != '\n' && c != '\t')
        || ('\u{7f}'..='\u{9f}').contains(&c)
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

fn agent(id: &str, status: &str, updated: &str) -> Value {
    json!({
        "id": id,
        "status": status,
        "createdAt": nasty("created"),
        "updatedAt": updated,
        "url": nasty("url"),
        "summary": nasty("summary"),
        "error": nasty("agent-error"),
        "artifacts": [{"id": ART, "type": nasty("kind"), "title": nasty("title"), "version": 1}],
        "files": [{"id": FILE, "name": nasty("file-name")}],
    })
}

fn conversation(answer: &str) -> Value {
    json!({"messages": [
        {"id": "1", "type": "user", "text": "the prompt"},
        {"id": "2", "type": "tool", "name": nasty("tool-name"), "text": nasty("tool-text")},
        {"id": "3", "type": nasty("role"), "text": nasty("row-text")},
        {"id": "4", "type": "assistant", "text": nasty(answer)},
    ]})
}

fn data(v: Value) -> Reply {
    Reply::json(200, json!({ "data": v }).to_string())
}

fn page(items: Value) -> Reply {
    Reply::json(
        200,
        json!({ "data": items, "nextCursor": null }).to_string(),
    )
}

/// The hostile API.
fn route(seen: &Seen, n: usize) -> Reply {
    let path = seen.path.split('?').next().unwrap_or_default();
    let path = path.strip_prefix("/api/v0").unwrap_or(path);
    let method = seen.method.as_str();
    let (id, tail) = match path.strip_prefix("/agents/") {
        Some(rest) => rest.split_once('/').unwrap_or((rest, "")),
        None => ("", ""),
    };
    const T1: &str = "2026-01-01T00:00:01.000Z";
    const T2: &str = "2026-01-01T00:00:02.000Z";
    match (method, path, id, tail) {
        ("GET", "/agents", ..) => page(json!([agent(A, "finished", T1)])),
        ("POST", "/agents", ..) => Reply::json(
            201,
            json!({"data": {"id": C, "status": "waiting", "updatedAt": T1}}).to_string(),
        ),
        ("GET", "/workflows", ..) => page(json!([{
            "id": WF, "name": nasty("workflow"),
            "inputs": [{"name": nasty("slot"), "required": true, "multiple": false}],
        }])),
        ("GET", "/files/search", ..) => page(json!([{
            "id": FILE, "name": nasty("hit-name"), "path": nasty("hit-path"),
        }])),
        ("POST", "/files/upload", ..) => Reply::json(
            201,
            json!({"data": {"id": FILE, "name": nasty("upload-name")}}).to_string(),
        ),
        (_, _, E, _) => Reply::json(
            418,
            json!({"error": nasty("server-error"), "code": nasty("code")}).to_string(),
        ),
        ("GET", _, A, "") => data(agent(A, "finished", T1)),
        ("POST", _, A, "stop") => data(agent(A, "stopped", T1)),
        ("DELETE", _, A, "") => Reply::Full {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        },
        ("GET", _, B, "") if n == 0 => data(agent(B, &nasty("status"), T1)),
        ("GET", _, B, "") => data(agent(B, "failed", T2)),
        ("GET", _, C, "") => data(agent(C, "finished", T2)),
        ("GET", _, A | B, "conversation") => data(conversation("answer")),
        ("GET", _, C, "conversation") => data(conversation("answer-c")),
        ("GET", _, _, t) if t.starts_with("artifacts/") => {
            Reply::with(200, "text/markdown", nasty("content"))
        }
        _ => Reply::json(404, r#"{"error":"no such route"}"#),
    }
}

/// A finished command's output, kept as the exact bytes (as UTF-8).
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit: {:?}\n--- stdout ---\n{:?}\n--- stderr ---\n{:?}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    /// Runs `cmd`, feeding `stdin`; the output must be UTF-8, hold no forbidden character
    /// raw, and never the key.
    fn of(mut cmd: Command, stdin: &str) -> Run {
        use std::io::Write;
        use std::process::Stdio;
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nomic-agent starts");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        let o = child.wait_with_output().expect("nomic-agent ends");
        let run = Run {
            code: o.status.code(),
            stdout: String::from_utf8(o.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(o.stderr).expect("stderr is UTF-8"),
        };
        for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            if let Some(c) = text.chars().find(|c| forbidden(*c)) {
                panic!("{name} holds a raw {c:?}:\n{run}");
            }
            assert!(!text.contains(SECRET), "the key leaked:\n{run}");
        }
        run
    }

    fn code(&self, want: i32) -> &Run {
        assert_eq!(self.code, Some(want), "wrong exit code:\n{self}");
        self
    }

    /// Asserts each labelled string was shown, escaped, in stdout or stderr.
    fn shows(&self, labels: &[&str]) -> &Run {
        for l in labels {
            let want = shown(l);
            assert!(
                self.stdout.contains(&want) || self.stderr.contains(&want),
                "{l} is not shown as {want:?}:\n{self}"
            );
        }
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{self}"))
    }
}

/// The hostile server (on its own runtime: the test thread blocks on the child) and a
/// working directory.
struct Server {
    hostile: Hostile,
    dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

impl Server {
    fn start() -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let script: Script = Arc::new(route);
        let hostile = rt.block_on(Hostile::start(script));
        Server {
            hostile,
            dir: tempfile::tempdir().expect("temp dir"),
            _rt: rt,
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = bare(self.dir.path());
        let base = self.hostile.base_url();
        c.args(["--base-url", &base, "--api-key", SECRET, "--timeout", "20"]);
        c.args(FAST);
        c.args(args);
        c
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::of(self.cmd(args), "")
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// `v[pointer]` as a string.
fn at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {v}"))
}

#[test]
fn agent_commands_escape_every_server_string() {
    let s = Server::start();
    let agent_strings = [
        "created",
        "url",
        "agent-error",
        "kind",
        "title",
        "file-name",
    ];
    s.run(&["status", A]).code(0).shows(&agent_strings);
    let doc = s.run(&["status", A, "--json"]).code(0).json();
    assert_eq!(at(&doc, "/error"), nasty("agent-error"));
    assert_eq!(at(&doc, "/artifacts/0/title"), nasty("title"));
    assert_eq!(at(&doc, "/artifacts/0/type"), nasty("kind"));
    assert_eq!(at(&doc, "/files/0/name"), nasty("file-name"));
    assert_eq!(at(&doc, "/url"), nasty("url"));
    assert_eq!(at(&doc, "/summary"), nasty("summary"));

    let convo = ["tool-name", "tool-text", "role", "row-text", "answer"];
    s.run(&["conversation", A]).code(0).shows(&convo);
    let doc = s.run(&["conversation", A, "--json"]).code(0).json();
    assert_eq!(at(&doc, "/messages/1/name"), nasty("tool-name"));
    assert_eq!(at(&doc, "/messages/2/type"), nasty("role"));
    assert_eq!(at(&doc, "/messages/3/text"), nasty("answer"));

    s.run(&["answer", A]).code(0).shows(&["answer"]);
    let doc = s.run(&["answer", A, "--json"]).code(0).json();
    assert_eq!(at(&doc, "/answer"), nasty("answer"));

    s.run(&["artifacts", A]).code(0).shows(&["kind", "title"]);
    let out = s.path("saved");
    s.run(&["artifacts", A, "--out", &out])
        .code(0)
        .shows(&["title"]);
    let doc = s.run(&["artifacts", A, "--json"]).code(0).json();
    assert_eq!(at(&doc, "/0/title"), nasty("title"));
    // The saved file's name stays sanitized (no control character reaches the file system).
    for entry in std::fs::read_dir(&out).expect("saved dir") {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        assert!(!name.chars().any(char::is_control), "{name:?}");
    }

    s.run(&["stop", A]).code(0);
    s.run(&["list"]).code(0).shows(&["created"]);
    let doc = s.run(&["list", "--json"]).code(0).json();
    assert_eq!(at(&doc, "/0/createdAt"), nasty("created"));
}

#[test]
fn turn_reports_escape_every_server_string() {
    let s = Server::start();
    // The plain status lines show the hostile unknown status, then the failure's error.
    s.run(&["wait", B])
        .code(1)
        .shows(&["status", "agent-error"]);
    let failed = s.run(&["wait", B, "--json"]);
    failed.code(1).shows(&["agent-error"]);
    assert_eq!(at(&failed.json(), "/status"), "failed");

    // A finished turn: answer, artifact lines (title and kind), the deep link.
    s.run(&["wait", A])
        .code(0)
        .shows(&["answer", "title", "kind"]);
    let doc = s.run(&["wait", A, "--json"]).code(0).json();
    assert_eq!(at(&doc, "/answer"), nasty("answer"));
    assert_eq!(at(&doc, "/artifacts/0/title"), nasty("title"));
    assert_eq!(at(&doc, "/url"), nasty("url"));

    s.run(&["run", "the prompt"]).code(0).shows(&["answer-c"]);
    let doc = s.run(&["run", "the prompt", "--json"]).code(0).json();
    assert_eq!(at(&doc, "/answer"), nasty("answer-c"));
    s.run(&["run", "the prompt", "--no-wait"])
        .code(0)
        .shows(&["url"]);
    let doc = s
        .run(&["run", "the prompt", "--no-wait", "--json"])
        .code(0)
        .json();
    assert_eq!(at(&doc, "/url"), nasty("url"));

    let store = s.path("sessions.json");
    let chat = |json: bool| {
        let mut args = vec!["chat", "--thread", "t", "--store", &store];
        if json {
            args.push("--json");
        }
        Run::of(s.cmd(&args), "hello\n")
    };
    chat(false).code(0).shows(&["answer-c"]);
    std::fs::remove_file(&store).expect("the chat saved its thread");
    let doc = chat(true).code(0).json();
    assert_eq!(at(&doc, "/turns/0/answer"), nasty("answer-c"));
}

#[test]
fn files_workflows_and_server_errors_escape_every_server_string() {
    let s = Server::start();
    s.run(&["workflows"]).code(0).shows(&["workflow", "slot"]);
    let doc = s.run(&["workflows", "--json"]).code(0).json();
    assert_eq!(at(&doc, "/0/name"), nasty("workflow"));
    assert_eq!(at(&doc, "/0/inputs/0/name"), nasty("slot"));

    s.run(&["files", "search", "q"])
        .code(0)
        .shows(&["hit-path"]);
    let doc = s.run(&["files", "search", "q", "--json"]).code(0).json();
    assert_eq!(at(&doc, "/0/path"), nasty("hit-path"));

    let upload = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/inspection-report.md");
    let upload = upload.display().to_string();
    s.run(&["upload", &upload]).code(0).shows(&["upload-name"]);
    let doc = s.run(&["upload", &upload, "--json"]).code(0).json();
    assert_eq!(at(&doc, "/name"), nasty("upload-name"));

    // An error body quoted in the error message: escaped on stderr, in the logs (-v) too, and
    // exact inside the `--json` error document.
    s.run(&["status", E])
        .code(4)
        .shows(&["server-error", "code"]);
    s.run(&["status", E, "-v"]).code(4).shows(&["server-error"]);
    let failed = s.run(&["status", E, "--json"]);
    failed.code(4).shows(&["server-error"]);
    let message = at(&failed.json(), "/error/message").to_owned();
    assert!(message.contains(&nasty("server-error")), "{message:?}");
    assert!(message.contains(&nasty("code")), "{message:?}");
}
