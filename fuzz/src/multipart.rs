//! The multipart encoder, with `multer` as the oracle: whatever file name, path, content type,
//! content and chunking, either the encoder refuses with a typed error, or `multer` reads back
//! the same fields, name and bytes.
//!
//! Input layout: fields separated by `0xFF` (never part of UTF-8 text):
//! `file name 0xFF content type 0xFF options 0xFF path 0xFF content`. Options: byte 0 has bit 0
//! "send the path" and bit 1 "send a parent id"; bytes 1–8 are the boundary seed; the rest are
//! chunk sizes, used in turn. Each `0xFE` in the content is replaced by the boundary string, so
//! the fuzzer can reach boundary collisions.

use std::convert::Infallible;
use std::future::Future;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use nomic_agent_core::multipart::{Boundary, BoundaryCollision, Encoder, UploadForm};
use nomic_agent_core::wire::FileId;

const PARENT: &str = "019abc12-3456-7890-abcd-ef1234567890";

/// One part as `multer` read it.
#[derive(Debug)]
struct Part {
    name: Option<String>,
    file_name: Option<String>,
    content_disposition: Option<Vec<u8>>,
    content_type: Option<Vec<u8>>,
    bytes: Bytes,
}

/// Encodes the upload described by `data` and reads it back.
pub fn check(data: &[u8]) {
    let mut fields = data.splitn(5, |b| *b == 0xFF);
    let name = String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    let content_type = String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    let options = fields.next().unwrap_or_default();
    let path = String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    let raw_content = fields.next().unwrap_or_default();

    let flags = options.first().copied().unwrap_or(0);
    let mut seed = [0u8; 8];
    let seed_bytes = options.get(1..).unwrap_or_default();
    let n = seed_bytes.len().min(8);
    seed[..n].copy_from_slice(&seed_bytes[..n]);
    let sizes = options.get(9..).unwrap_or_default();
    let boundary = Boundary::from_seed(u64::from_le_bytes(seed));

    let mut form = UploadForm::new(name.clone(), content_type.clone());
    if flags & 1 != 0 {
        form = form.path(path.clone());
    }
    if flags & 2 != 0 {
        form = form.parent(PARENT.parse::<FileId>().expect("valid id"));
    }

    let mut encoder = match Encoder::new(&form, boundary.clone()) {
        Ok(e) => e,
        Err(err) => {
            assert!(!err.problems().is_empty());
            assert!(form.validate().is_err(), "encoder refused a valid form");
            return;
        }
    };
    // Oracle for the form rules that keep the framing intact.
    assert!(!name.is_empty(), "empty file name accepted");
    // Surrounding white space (tabs included) is trimmed before the header is written.
    assert!(
        !content_type.trim().chars().any(char::is_control),
        "control character in content type"
    );
    assert!(
        content_type.contains('/'),
        "content type without a subtype accepted"
    );
    if let Some(p) = &form.path {
        assert!(
            !p.chars().any(char::is_control),
            "control character in path accepted"
        );
    }

    let mut content = Vec::with_capacity(raw_content.len());
    for &b in raw_content {
        if b == 0xFE {
            content.extend_from_slice(boundary.as_str().as_bytes());
        } else {
            content.push(b);
        }
    }
    let chunks = split(&content, sizes);

    // Feed the chunks; find where (if anywhere) the content forms the delimiter.
    let delimiter = format!("\r\n--{}", boundary.as_str()).into_bytes();
    let mut framed = b"\r\n".to_vec();
    framed.extend_from_slice(&content);
    let collision_end = find(&framed, &delimiter).map(|i| i + delimiter.len() - 2);
    let mut body = vec![encoder.preamble()];
    let mut fed = 0usize;
    let mut collided = false;
    for chunk in &chunks {
        let start = fed;
        fed += chunk.len();
        match encoder.chunk(chunk.clone()) {
            Ok(out) => {
                assert!(!collided, "a chunk accepted after a collision");
                assert_eq!(out.as_ptr(), chunk.as_ptr(), "chunk was copied");
                assert_eq!(out.len(), chunk.len());
                if let Some(end) = collision_end {
                    assert!(end > fed, "collision ending at byte {end} missed");
                }
                body.push(out);
            }
            Err(BoundaryCollision) => {
                if !collided {
                    let end = collision_end.expect("collision reported without a delimiter");
                    assert!(
                        end > start && end <= fed,
                        "collision reported in the wrong chunk"
                    );
                }
                collided = true;
            }
        }
    }
    if collided {
        return;
    }
    assert_eq!(
        collision_end, None,
        "delimiter in the content was not detected"
    );
    body.push(encoder.finish());
    let total: usize = body.iter().map(Bytes::len).sum();
    assert_eq!(
        encoder.encoded_len(content.len() as u64),
        total as u64,
        "encoded_len"
    );

    let parts = parse(body, boundary.as_str());
    let mut expected_names: Vec<&str> = Vec::new();
    if form.parent_id.is_some() {
        expected_names.push("parentId");
    }
    if form.path.is_some() {
        expected_names.push("path");
    }
    expected_names.push("file");
    let names: Vec<&str> = parts
        .iter()
        .map(|p| p.name.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(names, expected_names, "multer saw other fields");
    let mut parts = parts.into_iter();
    if form.parent_id.is_some() {
        assert_eq!(parts.next().expect("parentId").bytes, PARENT.as_bytes());
    }
    if let Some(p) = &form.path {
        assert_eq!(
            parts.next().expect("path").bytes,
            p.as_bytes(),
            "path changed"
        );
    }
    let file = parts.next().expect("file part");
    assert_eq!(file.bytes, content, "content changed");
    assert_eq!(
        file.content_type.as_deref(),
        Some(content_type.trim().as_bytes()),
        "content type changed"
    );
    check_file_name(&name, &file);
}

/// `filename` is the name itself when it needs no escaping; otherwise `filename*` (RFC 8187)
/// carries it exactly.
fn check_file_name(name: &str, file: &Part) {
    let needs_escape = name
        .chars()
        .any(|c| c == '"' || c == '\\' || c.is_control());
    let quoted = file.file_name.as_deref().expect("multer reads a file name");
    if needs_escape {
        assert!(
            !quoted
                .chars()
                .any(|c| c == '"' || c == '\\' || c.is_control())
        );
    } else {
        assert_eq!(quoted, name, "file name changed");
    }
    let disposition = file.content_disposition.as_deref().expect("disposition");
    // Parsed parameter by parameter, so a name that itself contains `; filename*=UTF-8''`
    // stays inside its quoted string (found by fuzzing: `regressions/multipart/crash-0e160567…`;
    // the encoder was right, the old check searched the raw header text).
    let params = disposition_params(disposition).expect("well-formed Content-Disposition");
    let keys: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    let wants_ext = needs_escape || !name.is_ascii();
    let expected_keys: &[&str] = if wants_ext {
        &["name", "filename", "filename*"]
    } else {
        &["name", "filename"]
    };
    assert_eq!(keys, expected_keys, "a file name forged a parameter");
    assert_eq!(params[0].1, b"file");
    assert_eq!(
        params[1].1,
        quoted.as_bytes(),
        "filename differs from multer's"
    );
    if wants_ext {
        assert_eq!(
            extended_file_name(&params[2].1).as_deref(),
            Some(name),
            "filename* does not carry the name"
        );
    }
}

/// The parameters of a raw `form-data; k=v; k="v"` header value, in order, with quoted strings
/// unquoted (RFC 9110 §5.6.4, `\` escapes included). `None` when it is not well formed.
fn disposition_params(header: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let is_token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    let skip_ows = |i: &mut usize| {
        while header.get(*i).is_some_and(|b| *b == b' ' || *b == b'\t') {
            *i += 1;
        }
    };
    let mut i = 0;
    while header.get(i).copied().is_some_and(is_token) {
        i += 1;
    }
    if &header[..i] != b"form-data" {
        return None;
    }
    let mut params = Vec::new();
    loop {
        skip_ows(&mut i);
        if i == header.len() {
            return Some(params);
        }
        if header[i] != b';' {
            return None;
        }
        i += 1;
        skip_ows(&mut i);
        let key_start = i;
        while header.get(i).copied().is_some_and(is_token) {
            i += 1;
        }
        if i == key_start || header.get(i) != Some(&b'=') {
            return None;
        }
        let key = String::from_utf8(header[key_start..i].to_vec()).ok()?;
        i += 1;
        let mut value = Vec::new();
        if header.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match *header.get(i)? {
                    b'"' => break,
                    b'\\' => {
                        value.push(*header.get(i + 1)?);
                        i += 2;
                    }
                    b => {
                        value.push(b);
                        i += 1;
                    }
                }
            }
            i += 1;
        } else {
            let start = i;
            while header.get(i).copied().is_some_and(is_token) {
                i += 1;
            }
            if i == start {
                return None;
            }
            value.extend_from_slice(&header[start..i]);
        }
        params.push((key.to_ascii_lowercase(), value));
    }
}

/// Decodes an RFC 8187 `UTF-8''…` value; `None` unless every byte is an `attr-char` or a
/// `%XX` escape and the result is UTF-8.
fn extended_file_name(value: &[u8]) -> Option<String> {
    let value = value.strip_prefix(b"UTF-8''")?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < value.len() {
        if value[i] == b'%' {
            let hex = value.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else if value[i].is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&value[i]) {
            out.push(value[i]);
            i += 1;
        } else {
            return None;
        }
    }
    String::from_utf8(out).ok()
}

/// Splits `content` by `sizes` (used in turn; empty chunks allowed, at most 64 of them).
fn split(content: &[u8], sizes: &[u8]) -> Vec<Bytes> {
    let all = Bytes::copy_from_slice(content);
    if sizes.is_empty() {
        return vec![all];
    }
    let mut chunks = Vec::new();
    let mut at = 0;
    let mut empties = 0;
    for &size in sizes.iter().cycle() {
        if at == all.len() || empties >= 64 {
            break;
        }
        let end = (at + usize::from(size)).min(all.len());
        if end == at {
            empties += 1;
        }
        chunks.push(all.slice(at..end));
        at = end;
    }
    if at < all.len() {
        chunks.push(all.slice(at..));
    }
    chunks
}

/// Parses a body with `multer`, fed as the same chunks the encoder produced.
fn parse(body: Vec<Bytes>, boundary: &str) -> Vec<Part> {
    let stream = futures_util::stream::iter(body.into_iter().map(Ok::<Bytes, Infallible>));
    let mut multipart = multer::Multipart::new(stream, boundary);
    let read = async {
        let mut parts = Vec::new();
        while let Some(field) = multipart.next_field().await? {
            let header = |name: http::header::HeaderName| {
                field.headers().get(name).map(|v| v.as_bytes().to_vec())
            };
            let part = Part {
                name: field.name().map(str::to_owned),
                file_name: field.file_name().map(str::to_owned),
                content_disposition: header(http::header::CONTENT_DISPOSITION),
                content_type: header(http::header::CONTENT_TYPE),
                bytes: Bytes::new(),
            };
            let bytes = field.bytes().await?;
            parts.push(Part { bytes, ..part });
        }
        Ok::<_, multer::Error>(parts)
    };
    match block_on(read) {
        Ok(parts) => parts,
        Err(err) => panic!("multer refused the encoder's body: {err}"),
    }
}

/// Runs a future that never waits (the stream is in memory) to completion.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("an in-memory multipart parse did not finish");
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
