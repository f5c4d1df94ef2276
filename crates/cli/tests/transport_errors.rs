//! Transport failures reach the user with their cause: a response head over the limits is
//! "the response header was too large", a closed port is "refused", each with exit 5.

mod common;

use std::sync::Arc;

use nomic_agent_tests::hostile::{Hostile, Reply, Script};

use common::{FAST, Out, SECRET, bare};

const ID: &str = "019abc12-3456-7890-abcd-ef1234567890";

fn status_against(base: &str) -> Out {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut c = bare(dir.path());
    c.args(["--base-url", base, "--api-key", SECRET, "--timeout", "20"]);
    c.args(FAST);
    c.args(["status", ID]);
    Out::of(c)
}

#[test]
fn an_oversized_response_header_is_named_as_the_cause() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let head = format!(
        "HTTP/1.1 200 OK\r\nx-big: {}\r\ncontent-length: 2\r\n\r\n{{}}",
        "a".repeat(2 << 20)
    );
    let reply = Reply::Raw(head.as_bytes().into());
    let script: Script = Arc::new(move |_, _| reply.clone());
    let h = rt.block_on(Hostile::start(script));
    let out = status_against(&h.base_url());
    out.code(5);
    assert!(
        out.stderr
            .contains("the response header was too large (over 100 fields or 408 KiB)"),
        "{out}"
    );
    assert!(!out.stderr.contains("sending the request failed"), "{out}");
    assert_eq!(h.seen().len(), 1, "not retried");
}

#[test]
fn a_closed_port_is_named_as_refused() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let out = status_against(&format!("http://{addr}/api/v0"));
    out.code(5);
    assert!(
        out.stderr.contains("the server refused the connection"),
        "{out}"
    );
}
