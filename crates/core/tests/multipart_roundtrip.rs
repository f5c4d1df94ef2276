//! The upload encoder, checked by parsing its output back with a small independent parser.

use bytes::Bytes;
use nomic_agent_core::multipart::{Boundary, BoundaryCollision, Encoder, UploadForm};
use nomic_agent_core::request::percent_decode;
use nomic_agent_core::wire::FileId;
use proptest::prelude::*;

#[derive(Debug, PartialEq)]
struct Part {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Part {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A parameter of Content-Disposition: quoted values are returned raw, `*` values
    /// are RFC 8187-decoded.
    fn disposition_param(&self, key: &str) -> Option<String> {
        let cd = self.header("content-disposition")?;
        let mut rest = cd.split_once(';')?.1;
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                return None;
            }
            let (k, after) = rest.split_once('=')?;
            let (value, next) = if let Some(q) = after.strip_prefix('"') {
                let end = q.find('"')?;
                (q[..end].to_owned(), q[end + 1..].trim_start_matches(';'))
            } else {
                let end = after.find(';').unwrap_or(after.len());
                (after[..end].to_owned(), &after[end..])
            };
            if k.trim() == key {
                return Some(match value.strip_prefix("UTF-8''") {
                    Some(enc) if key.ends_with('*') => percent_decode(enc)?,
                    _ => value,
                });
            }
            rest = next.trim_start_matches(';');
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A strict RFC 7578 parser for bodies without a preamble or epilogue.
fn parse(body: &[u8], boundary: &str) -> Vec<Part> {
    let dash = format!("--{boundary}");
    let delim = format!("\r\n--{boundary}");
    assert!(
        body.starts_with(dash.as_bytes()),
        "body must open with the boundary"
    );
    let mut pos = dash.len();
    let mut parts = Vec::new();
    loop {
        let rest = &body[pos..];
        if rest == b"--\r\n" {
            return parts;
        }
        assert!(rest.starts_with(b"\r\n"), "CRLF after boundary");
        pos += 2;
        let head_end = pos + find(&body[pos..], b"\r\n\r\n").expect("end of headers");
        let headers = std::str::from_utf8(&body[pos..head_end])
            .unwrap()
            .split("\r\n")
            .map(|line| {
                let (k, v) = line.split_once(':').expect("header line");
                (k.trim().to_owned(), v.trim().to_owned())
            })
            .collect();
        let body_start = head_end + 4;
        let body_end = body_start + find(&body[body_start..], delim.as_bytes()).expect("delimiter");
        parts.push(Part {
            headers,
            body: body[body_start..body_end].to_vec(),
        });
        pos = body_end + delim.len();
    }
}

/// Encodes `content` in chunks of the given sizes (cycled).
fn encode(
    form: &UploadForm,
    seed: u64,
    content: &[u8],
    sizes: &[usize],
) -> Result<(Vec<u8>, Encoder), BoundaryCollision> {
    let mut enc = Encoder::new(form, Boundary::from_seed(seed)).unwrap();
    let mut out = enc.preamble().to_vec();
    let mut rest = content;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        let (head, tail) = rest.split_at(n);
        out.extend_from_slice(&enc.chunk(Bytes::copy_from_slice(head))?);
        rest = tail;
        i += 1;
    }
    out.extend_from_slice(&enc.finish());
    Ok((out, enc))
}

#[test]
fn fields_and_file_round_trip() {
    let parent: FileId = "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap();
    let form = UploadForm::new("floor plan.pdf", "application/pdf")
        .path("project/drawings/floor plan.pdf")
        .parent(parent);
    let content = b"%PDF-1.7\r\n--not-a-boundary\r\n\r\n";
    let (body, enc) = encode(&form, 9, content, &[5]).unwrap();
    assert_eq!(enc.encoded_len(content.len() as u64), body.len() as u64);
    let parts = parse(&body, enc.boundary().as_str());
    assert_eq!(parts.len(), 3);
    assert_eq!(
        parts[0].disposition_param("name").as_deref(),
        Some("parentId")
    );
    assert_eq!(parts[0].body, parent.to_string().as_bytes());
    assert_eq!(parts[1].disposition_param("name").as_deref(), Some("path"));
    assert_eq!(parts[1].body, b"project/drawings/floor plan.pdf");
    assert_eq!(parts[2].disposition_param("name").as_deref(), Some("file"));
    assert_eq!(
        parts[2].disposition_param("filename").as_deref(),
        Some("floor plan.pdf")
    );
    assert_eq!(parts[2].disposition_param("filename*"), None);
    assert_eq!(parts[2].header("content-type"), Some("application/pdf"));
    assert_eq!(parts[2].body, content);
}

#[test]
fn hostile_file_names_cannot_break_framing() {
    for name in [
        "a\"; name=\"evil.pdf",
        "line\r\nContent-Type: text/html\r\n\r\nboom",
        "back\\slash\".pdf",
        "日本語の図面.pdf",
        "\u{0}\u{7f}",
    ] {
        let form = UploadForm::new(name, "application/octet-stream");
        let (body, enc) = encode(&form, 1, b"data", &[64]).unwrap();
        let parts = parse(&body, enc.boundary().as_str());
        assert_eq!(parts.len(), 1, "{name:?}");
        let file = &parts[0];
        assert_eq!(file.headers.len(), 2, "{name:?}");
        assert_eq!(file.disposition_param("name").as_deref(), Some("file"));
        assert_eq!(file.disposition_param("filename*").as_deref(), Some(name));
        assert_eq!(file.body, b"data");
    }
}

#[test]
fn empty_content() {
    let form = UploadForm::new("empty.txt", "text/plain");
    let (body, enc) = encode(&form, 3, b"", &[1]).unwrap();
    let parts = parse(&body, enc.boundary().as_str());
    assert_eq!(parts[0].body, b"");
    assert_eq!(enc.encoded_len(0), body.len() as u64);
}

#[test]
fn invalid_forms_are_refused() {
    assert!(Encoder::new(&UploadForm::new("", "text/plain"), Boundary::from_seed(1)).is_err());
    assert!(
        Encoder::new(
            &UploadForm::new("a", "text/plain").path("a\nb"),
            Boundary::from_seed(1)
        )
        .is_err()
    );
}

#[test]
fn collision_is_reported_and_a_new_seed_works() {
    let form = UploadForm::new("a.bin", "application/octet-stream");
    let poisoned = format!("xx\r\n--{}yy", Boundary::from_seed(5));
    assert_eq!(
        encode(&form, 5, poisoned.as_bytes(), &[3, 1, 7]).unwrap_err(),
        BoundaryCollision
    );
    let (body, enc) = encode(&form, 6, poisoned.as_bytes(), &[3, 1, 7]).unwrap();
    assert_eq!(
        parse(&body, enc.boundary().as_str())[0].body,
        poisoned.as_bytes()
    );
}

proptest! {
    #[test]
    fn arbitrary_round_trip(
        name in "\\PC{1,30}|[\"\\\\\r\n; =a-z]{1,20}",
        path in proptest::option::of("[a-zA-Z0-9 /._é-]{1,30}"),
        content in prop::collection::vec(any::<u8>(), 0..2048),
        sizes in prop::collection::vec(1usize..300, 1..8),
        seed in any::<u64>(),
    ) {
        let mut form = UploadForm::new(name.clone(), "application/octet-stream");
        if let Some(p) = &path {
            form = form.path(p.clone());
        }
        let (body, enc) = encode(&form, seed, &content, &sizes).unwrap();
        prop_assert_eq!(enc.encoded_len(content.len() as u64), body.len() as u64);
        let parts = parse(&body, enc.boundary().as_str());
        let file = parts.last().unwrap();
        prop_assert_eq!(&file.body, &content);
        let recovered = file
            .disposition_param("filename*")
            .or_else(|| file.disposition_param("filename"));
        prop_assert_eq!(recovered.as_deref(), Some(name.as_str()));
        if let Some(p) = path {
            prop_assert_eq!(parts.len(), 2);
            prop_assert_eq!(&parts[0].body, p.as_bytes());
        }
    }

    #[test]
    fn planted_delimiter_is_always_found(
        before in prop::collection::vec(any::<u8>(), 0..200),
        after in prop::collection::vec(any::<u8>(), 0..200),
        sizes in prop::collection::vec(1usize..80, 1..6),
        seed in any::<u64>(),
    ) {
        let delim = format!("\r\n--{}", Boundary::from_seed(seed));
        let content = [before.as_slice(), delim.as_bytes(), after.as_slice()].concat();
        let form = UploadForm::new("x", "application/octet-stream");
        prop_assert_eq!(encode(&form, seed, &content, &sizes).unwrap_err(), BoundaryCollision);
    }
}
