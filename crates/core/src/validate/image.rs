//! Image rules, checked without decoding the whole image.

use base64::Engine as _;

use super::{InvalidRequest, Problem, ProblemKind};
use crate::wire::{Image, MAX_IMAGE_BYTES, MediaType};

/// Base64 characters decoded for the magic-number check (12 bytes, enough for WebP).
const SNIFF_CHARS: usize = 16;

/// Checks one image: supported media type, raw base64 (not a `data:` URL), at most 20 MiB
/// decoded, well-formed padded base64, and magic bytes that agree with `media_type`.
///
/// The size comes from the base64 length before anything is decoded, and only the first
/// 12 bytes are decoded for the magic number; the alphabet and padding of the rest are checked
/// in place without allocating.
pub fn validate_image(image: &Image) -> Result<(), InvalidRequest> {
    let mut problems = Vec::new();
    check_image(image, "", &mut problems);
    InvalidRequest::check(problems)
}

pub(crate) fn check_image(image: &Image, prefix: &str, problems: &mut Vec<Problem>) {
    let at = |field: &str| {
        if prefix.is_empty() {
            field.to_owned()
        } else {
            format!("{prefix}.{field}")
        }
    };
    if let MediaType::Other(raw) = &image.media_type {
        problems.push(Problem::new(
            at("media_type"),
            ProblemKind::UnsupportedMediaType(raw.chars().take(64).collect()),
        ));
    }
    let data = image.data.as_bytes();
    if data.len() >= 5 && data[..5].eq_ignore_ascii_case(b"data:") {
        problems.push(Problem::new(at("data"), ProblemKind::DataUrl));
        return;
    }
    let Some(decoded) = base64_decoded_len(data) else {
        problems.push(Problem::new(at("data"), ProblemKind::InvalidBase64));
        return;
    };
    if decoded > MAX_IMAGE_BYTES {
        problems.push(Problem::new(
            at("data"),
            ProblemKind::ImageTooLarge { bytes: decoded },
        ));
        return;
    }
    if !base64_well_formed(data) {
        problems.push(Problem::new(at("data"), ProblemKind::InvalidBase64));
        return;
    }
    if image.media_type.is_supported() {
        let prefix_len = data.len().min(SNIFF_CHARS);
        let head = base64::engine::general_purpose::STANDARD
            .decode(&data[..prefix_len])
            .unwrap_or_default();
        let detected = MediaType::sniff(&head);
        if detected.as_ref() != Some(&image.media_type) {
            problems.push(Problem::new(
                at("data"),
                ProblemKind::MediaTypeMismatch {
                    declared: image.media_type.clone(),
                    detected,
                },
            ));
        }
    }
}

/// The decoded length of padded base64 of this length; `None` when the length is not a
/// multiple of four.
pub(crate) fn base64_decoded_len(data: &[u8]) -> Option<u64> {
    if !data.len().is_multiple_of(4) {
        return None;
    }
    let pad = data
        .iter()
        .rev()
        .take(2)
        .take_while(|b| **b == b'=')
        .count();
    Some((data.len() / 4 * 3 - pad) as u64)
}

fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Standard alphabet, `=` only as one or two final characters, and zero unused bits in the
/// last character (what a strict decoder such as the server's accepts).
fn base64_well_formed(data: &[u8]) -> bool {
    if !data.len().is_multiple_of(4) {
        return false;
    }
    let pad = data.iter().rev().take_while(|b| **b == b'=').count();
    if pad > 2 {
        return false;
    }
    let body = &data[..data.len() - pad];
    if !body.iter().all(|b| sextet(*b).is_some()) {
        return false;
    }
    match (pad, body.last().and_then(|b| sextet(*b))) {
        (1, Some(last)) => last & 0b11 == 0,
        (2, Some(last)) => last & 0b1111 == 0,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn kinds(image: &Image) -> Vec<ProblemKind> {
        match validate_image(image) {
            Ok(()) => vec![],
            Err(e) => e.problems.into_iter().map(|p| p.kind).collect(),
        }
    }

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];
    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
    const WEBP: &[u8] = b"RIFF\x10\0\0\0WEBPVP8 ";
    const GIF: &[u8] = b"GIF89a\x01\0";

    #[test]
    fn accepts_each_supported_type() {
        for (m, bytes) in [
            (MediaType::Png, PNG),
            (MediaType::Jpeg, JPEG),
            (MediaType::Webp, WEBP),
            (MediaType::Gif, GIF),
        ] {
            let img = Image {
                media_type: m,
                data: b64(bytes),
            };
            assert_eq!(kinds(&img), vec![], "{img:?}");
        }
    }

    #[test]
    fn unsupported_media_type() {
        let img = Image {
            media_type: MediaType::Other("image/bmp".into()),
            data: b64(b"BM...."),
        };
        assert_eq!(
            kinds(&img),
            vec![ProblemKind::UnsupportedMediaType("image/bmp".into())]
        );
    }

    #[test]
    fn data_url_rejected() {
        let img = Image {
            media_type: MediaType::Png,
            data: format!("data:image/png;base64,{}", b64(PNG)),
        };
        assert_eq!(kinds(&img), vec![ProblemKind::DataUrl]);
        let upper = Image {
            media_type: MediaType::Png,
            data: format!("DATA:image/png;base64,{}", b64(PNG)),
        };
        assert_eq!(kinds(&upper), vec![ProblemKind::DataUrl]);
    }

    #[test]
    fn invalid_base64_anywhere_is_found() {
        let good = b64(&[PNG, &[0u8; 300][..]].concat());
        for bad in [
            format!("{}!", &good[..good.len() - 1]),
            format!("{}*{}", &good[..200], &good[201..]),
            format!("{}\n{}", &good[..100], &good[101..]),
            "iVBORw0KGgo=A==".to_owned(),
            "abc".to_owned(),
            "iVBORw0KGgo=====".to_owned(),
            // Non-zero unused bits in the last character.
            "iVBORw0KGgoAAAB=".to_owned(),
            "iVBORw0KGgoAAB==".to_owned(),
        ] {
            let img = Image {
                media_type: MediaType::Png,
                data: bad.clone(),
            };
            assert_eq!(kinds(&img), vec![ProblemKind::InvalidBase64], "{bad}");
        }
    }

    #[test]
    fn too_large_is_found_from_the_length() {
        // 20 MiB + 3 bytes' worth of base64 made of 'A's: never decoded.
        let chars = (MAX_IMAGE_BYTES as usize / 3 + 1) * 4;
        let img = Image {
            media_type: MediaType::Png,
            data: "A".repeat(chars),
        };
        let expected = (chars / 4 * 3) as u64;
        assert_eq!(
            kinds(&img),
            vec![ProblemKind::ImageTooLarge { bytes: expected }]
        );
        // Exactly at the limit is fine size-wise (it then fails only the magic check).
        let at_limit = Image {
            media_type: MediaType::Png,
            data: "A".repeat(MAX_IMAGE_BYTES as usize / 3 * 4),
        };
        assert!(at_limit.decoded_len().unwrap() <= MAX_IMAGE_BYTES);
        assert!(matches!(
            kinds(&at_limit).as_slice(),
            [ProblemKind::MediaTypeMismatch { detected: None, .. }]
        ));
    }

    #[test]
    fn media_type_mismatch() {
        let img = Image {
            media_type: MediaType::Jpeg,
            data: b64(PNG),
        };
        assert_eq!(
            kinds(&img),
            vec![ProblemKind::MediaTypeMismatch {
                declared: MediaType::Jpeg,
                detected: Some(MediaType::Png)
            }]
        );
        let empty = Image {
            media_type: MediaType::Gif,
            data: String::new(),
        };
        assert_eq!(
            kinds(&empty),
            vec![ProblemKind::MediaTypeMismatch {
                declared: MediaType::Gif,
                detected: None
            }]
        );
    }

    #[test]
    fn decoded_len_from_length() {
        assert_eq!(base64_decoded_len(b""), Some(0));
        assert_eq!(base64_decoded_len(b"QQ=="), Some(1));
        assert_eq!(base64_decoded_len(b"QUI="), Some(2));
        assert_eq!(base64_decoded_len(b"QUJD"), Some(3));
        assert_eq!(base64_decoded_len(b"QUJ"), None);
    }
}
