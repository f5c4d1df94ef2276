//! `request::percent_encode` / `percent_decode`: encoding is lossless and only emits
//! unreserved characters and escapes; decoding accepts exactly well-formed UTF-8 escapes.

use nomic_agent_core::request::{percent_decode, percent_encode};

/// `data` is decoded as a query component, and (when text) encoded and decoded back.
pub fn check(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let encoded = percent_encode(text);
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
            "encoded output has a reserved character"
        );
        assert_eq!(
            percent_decode(&encoded).as_deref(),
            Some(text),
            "round trip"
        );
        match percent_decode(text) {
            Some(decoded) => {
                assert!(decoded.len() <= text.len());
                // Oracle: decode byte by byte independently.
                assert_eq!(Some(decoded), oracle_decode(text.as_bytes()));
            }
            None => assert_eq!(oracle_decode(text.as_bytes()), None),
        }
    }
}

fn oracle_decode(s: &[u8]) -> Option<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            out.push(b);
            rest = tail;
        }
    }
    String::from_utf8(out).ok()
}
