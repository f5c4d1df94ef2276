//! The streaming encoder.

use bytes::Bytes;

use super::form::{ext_file_name, quoted_file_name};
use super::{Boundary, UploadForm};
use crate::validate::InvalidRequest;

/// The content contained the boundary delimiter. Discard the partial body and restart the
/// upload with a new [`Boundary`] (a new seed); the encoder refuses further chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the upload content contains the multipart boundary; restart the upload with a new boundary seed"
)]
pub struct BoundaryCollision;

/// Encodes one upload: preamble, content chunks, closing delimiter.
#[derive(Debug)]
pub struct Encoder {
    boundary: Boundary,
    preamble: Bytes,
    finish: Bytes,
    /// `\r\n--{boundary}`: what must never appear in the content.
    delimiter: Vec<u8>,
    /// The last `delimiter.len() - 1` bytes seen (starting with the preamble's final CRLF),
    /// so a delimiter split across chunks is still found.
    carry: Vec<u8>,
    /// Scratch space for the carry plus the next chunk's head (reused, no allocation per chunk).
    edge: Vec<u8>,
    collided: bool,
}

impl Encoder {
    /// Prepares the encoding of `form` with `boundary`, after [`UploadForm::validate`].
    pub fn new(form: &UploadForm, boundary: Boundary) -> Result<Encoder, InvalidRequest> {
        form.validate()?;
        let b = boundary.as_str();
        let mut pre = String::new();
        if let Some(parent) = &form.parent_id {
            pre.push_str(&format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"parentId\"\r\n\r\n{parent}\r\n"
            ));
        }
        if let Some(path) = &form.path {
            pre.push_str(&format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n{path}\r\n"
            ));
        }
        let (quoted, escaped) = quoted_file_name(&form.file_name);
        pre.push_str(&format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{quoted}\""
        ));
        if escaped || !form.file_name.is_ascii() {
            pre.push_str("; filename*=");
            pre.push_str(&ext_file_name(&form.file_name));
        }
        pre.push_str(&format!(
            "\r\nContent-Type: {}\r\n\r\n",
            form.content_type.trim()
        ));
        let delimiter = format!("\r\n--{b}").into_bytes();
        Ok(Encoder {
            finish: Bytes::from(format!("\r\n--{b}--\r\n")),
            preamble: Bytes::from(pre),
            carry: b"\r\n".to_vec(),
            edge: Vec::with_capacity(2 * delimiter.len()),
            delimiter,
            boundary,
            collided: false,
        })
    }

    /// The boundary in use (for the `Content-Type` header).
    pub fn boundary(&self) -> &Boundary {
        &self.boundary
    }

    /// Everything before the content: the text fields and the file part's headers.
    pub fn preamble(&self) -> Bytes {
        self.preamble.clone()
    }

    /// Passes a content chunk through unchanged (the same buffer, no copy), after checking that
    /// the content so far does not contain the boundary delimiter.
    pub fn chunk(&mut self, chunk: Bytes) -> Result<Bytes, BoundaryCollision> {
        if self.collided {
            return Err(BoundaryCollision);
        }
        let keep = self.delimiter.len() - 1;
        self.edge.clear();
        self.edge.extend_from_slice(&self.carry);
        self.edge.extend_from_slice(&chunk[..chunk.len().min(keep)]);
        if contains(&self.edge, &self.delimiter) || contains(&chunk, &self.delimiter) {
            self.collided = true;
            return Err(BoundaryCollision);
        }
        if chunk.len() >= keep {
            self.carry.clear();
            self.carry.extend_from_slice(&chunk[chunk.len() - keep..]);
        } else {
            self.carry.extend_from_slice(&chunk);
            let excess = self.carry.len().saturating_sub(keep);
            self.carry.drain(..excess);
        }
        Ok(chunk)
    }

    /// The closing delimiter, sent after the last chunk.
    pub fn finish(&self) -> Bytes {
        self.finish.clone()
    }

    /// The exact body length for `content_len` bytes of content, for `Content-Length`.
    pub fn encoded_len(&self, content_len: u64) -> u64 {
        self.preamble.len() as u64 + content_len + self.finish.len() as u64
    }
}

/// Whether `needle` (non-empty) occurs in `haystack`: candidates are found with
/// [`find_byte`] (eight bytes per step), and only there is the whole needle compared.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut from = 0;
    while haystack.len() - from >= needle.len() {
        let window = &haystack[from..=haystack.len() - needle.len()];
        let Some(i) = find_byte(window, first) else {
            return false;
        };
        let at = from + i;
        if haystack[at + 1..].starts_with(rest) {
            return true;
        }
        from = at + 1;
    }
    false
}

/// The index of the first `byte` in `hay`, comparing a word at a time (SWAR): XOR with the
/// byte repeated turns matches into zero bytes, and `(x - 0x01..) & !x & 0x80..` flags the
/// lowest zero byte of `x` exactly (borrows only corrupt the bytes above it).
fn find_byte(hay: &[u8], byte: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO.wrapping_mul(u64::from(byte));
    let zero_at = |word: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let x = u64::from_le_bytes(w) ^ pattern;
        x.wrapping_sub(LO) & !x & HI
    };
    let mut blocks = hay.chunks_exact(16);
    let mut base = 0;
    for block in &mut blocks {
        let (a, b) = block.split_at(8);
        let (za, zb) = (zero_at(a), zero_at(b));
        if za | zb != 0 {
            let (offset, z) = if za != 0 { (0, za) } else { (8, zb) };
            return Some(base + offset + (z.trailing_zeros() / 8) as usize);
        }
        base += 16;
    }
    blocks
        .remainder()
        .iter()
        .position(|&b| b == byte)
        .map(|i| base + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoder() -> Encoder {
        Encoder::new(
            &UploadForm::new("a.txt", "text/plain"),
            Boundary::from_seed(1),
        )
        .unwrap()
    }

    #[test]
    fn layout() {
        let form = UploadForm::new("q\".pdf", "application/pdf")
            .path("reports/q.pdf")
            .parent("019abc12-3456-7890-abcd-ef1234567890".parse().unwrap());
        let b = Boundary::from_seed(3);
        let mut enc = Encoder::new(&form, b.clone()).unwrap();
        let mut body = enc.preamble().to_vec();
        body.extend_from_slice(&enc.chunk(Bytes::from_static(b"%PDF")).unwrap());
        body.extend_from_slice(&enc.finish());
        let expected = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"parentId\"\r\n\r\n\
             019abc12-3456-7890-abcd-ef1234567890\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\nreports/q.pdf\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"q%22.pdf\"; \
             filename*=UTF-8''q%22.pdf\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--{b}--\r\n"
        );
        assert_eq!(String::from_utf8(body.clone()).unwrap(), expected);
        assert_eq!(enc.encoded_len(4), body.len() as u64);
    }

    #[test]
    fn chunk_is_zero_copy() {
        let mut enc = encoder();
        let chunk = Bytes::from(vec![7u8; 1000]);
        let out = enc.chunk(chunk.clone()).unwrap();
        assert_eq!(out.as_ptr(), chunk.as_ptr());
    }

    #[test]
    fn collision_inside_a_chunk() {
        let mut enc = encoder();
        let bad = format!("abc\r\n--{}xyz", enc.boundary());
        assert_eq!(enc.chunk(Bytes::from(bad)), Err(BoundaryCollision));
        assert_eq!(enc.chunk(Bytes::from_static(b"ok")), Err(BoundaryCollision));
    }

    #[test]
    fn collision_across_chunk_edges() {
        let delim = format!("\r\n--{}", encoder().boundary());
        for split in 0..=delim.len() {
            for tiny in [false, true] {
                let mut enc = encoder();
                let (a, b) = delim.as_bytes().split_at(split);
                let mut results = vec![enc.chunk(Bytes::from_static(b"lead"))];
                if tiny {
                    // One byte at a time: the carry must build up over many chunks.
                    for byte in a.iter().chain(b) {
                        results.push(enc.chunk(Bytes::copy_from_slice(&[*byte])));
                    }
                } else {
                    results.push(enc.chunk(Bytes::copy_from_slice(a)));
                    results.push(enc.chunk(Bytes::copy_from_slice(b)));
                }
                assert_eq!(
                    results.last(),
                    Some(&Err(BoundaryCollision)),
                    "{split} {tiny}"
                );
            }
        }
    }

    #[test]
    fn content_starting_with_dash_boundary_collides() {
        // The preamble ends in CRLF, so content starting with `--boundary` would form a
        // delimiter.
        let mut enc = encoder();
        let bad = format!("--{}", enc.boundary());
        assert_eq!(enc.chunk(Bytes::from(bad)), Err(BoundaryCollision));
    }

    #[test]
    fn near_misses_pass() {
        let mut enc = encoder();
        let b = enc.boundary().to_string();
        for ok in [
            format!("\n--{b}"),
            format!("\r\n-{b}"),
            format!("\r\n--{}", &b[..b.len() - 1]),
            "\r\n\r\n--".to_owned(),
        ] {
            assert!(enc.chunk(Bytes::from(ok.clone())).is_ok(), "{ok:?}");
            // Separate the cases so they do not combine across edges.
            enc.chunk(Bytes::from_static(b"x")).unwrap();
        }
    }

    fn naive_contains(h: &[u8], n: &[u8]) -> bool {
        h.windows(n.len()).any(|w| w == n)
    }

    #[test]
    fn word_search_agrees_with_a_plain_scan() {
        // Every position of the byte within and around the 16-byte blocks, with decoys that
        // differ from it by one bit or sit in the high half (borrow cases of the word trick).
        for len in 0..48 {
            for at in 0..=len {
                for decoy in [0x00u8, 0x0c, 0x0e, 0x8d, 0xff] {
                    let mut hay = vec![decoy; len];
                    if at < len {
                        hay[at] = b'\r';
                    }
                    let expected = hay.iter().position(|&b| b == b'\r');
                    assert_eq!(find_byte(&hay, b'\r'), expected, "{len} {at} {decoy:#x}");
                }
            }
        }
        for byte in [0u8, 1, 0x7f, 0x80, 0xfe, 0xff] {
            let hay: Vec<u8> = (0..=255u8).rev().collect();
            assert_eq!(find_byte(&hay, byte), hay.iter().position(|&b| b == byte));
        }
    }

    #[test]
    fn substring_search_agrees_with_a_plain_scan() {
        let needle = b"\r\n--ab";
        let pieces: [&[u8]; 5] = [b"\r", b"\r\n", b"\r\n--", b"\r\n--a", b"x"];
        // All short sequences of the pieces, plus the needle at every offset.
        let mut hay = Vec::new();
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    hay.clear();
                    hay.extend_from_slice(a);
                    hay.extend_from_slice(b);
                    hay.extend_from_slice(c);
                    assert_eq!(contains(&hay, needle), naive_contains(&hay, needle));
                    hay.extend_from_slice(b"ab");
                    assert_eq!(contains(&hay, needle), naive_contains(&hay, needle));
                }
            }
        }
        for offset in 0..40 {
            let mut hay = vec![b'\r'; offset];
            hay.extend_from_slice(needle);
            assert!(contains(&hay, needle), "{offset}");
            hay.pop();
            assert!(!contains(&hay, needle), "{offset}");
        }
    }
}
