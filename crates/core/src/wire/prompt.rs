//! Prompts and inline images.

use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::validate::{InvalidRequest, Problem, ProblemKind};

/// At most this many images per prompt.
pub const MAX_IMAGES: usize = 4;

/// Each image may be at most this many bytes after base64 decoding (20 MiB).
pub const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;

/// An instruction for an agent: text plus optional inline images.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Prompt {
    /// The instruction text; must not be empty or only white space.
    pub text: String,
    /// Inline images (at most [`MAX_IMAGES`]); omitted from JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<Image>,
}

object_only_serde!(Prompt, "a prompt object");

impl Prompt {
    /// A text-only prompt.
    pub fn new(text: impl Into<String>) -> Self {
        Prompt {
            text: text.into(),
            images: Vec::new(),
        }
    }

    /// Adds an image.
    pub fn with_image(mut self, image: Image) -> Self {
        self.images.push(image);
        self
    }
}

impl From<&str> for Prompt {
    fn from(text: &str) -> Self {
        Prompt::new(text)
    }
}

impl From<String> for Prompt {
    fn from(text: String) -> Self {
        Prompt::new(text)
    }
}

/// An image's declared media type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// `image/jpeg`
    Jpeg,
    /// `image/png`
    Png,
    /// `image/webp`
    Webp,
    /// `image/gif`
    Gif,
    /// Anything else, kept as sent so validation can name it (and reject it).
    Other(String),
}

impl MediaType {
    /// Parses a media type, ignoring ASCII case.
    pub fn parse(s: &str) -> MediaType {
        // Compared in place, without a lower-cased copy.
        let is = |name: &str| s.eq_ignore_ascii_case(name);
        if is("image/jpeg") {
            MediaType::Jpeg
        } else if is("image/png") {
            MediaType::Png
        } else if is("image/webp") {
            MediaType::Webp
        } else if is("image/gif") {
            MediaType::Gif
        } else {
            MediaType::Other(s.to_owned())
        }
    }

    /// The wire name, e.g. `image/png`.
    pub fn as_str(&self) -> &str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Webp => "image/webp",
            MediaType::Gif => "image/gif",
            MediaType::Other(raw) => raw,
        }
    }

    /// True for the four types the API accepts.
    pub fn is_supported(&self) -> bool {
        !matches!(self, MediaType::Other(_))
    }

    /// Detects a supported type from the first bytes of an image (12 bytes are enough).
    pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(MediaType::Jpeg)
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(MediaType::Png)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(MediaType::Gif)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(MediaType::Webp)
        } else {
            None
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for MediaType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MediaType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::str_de::deserialize_str_with(deserializer, |s| {
            Ok::<_, std::convert::Infallible>(MediaType::parse(s))
        })
    }
}

/// An inline image: a media type and standard, padded base64 of the bytes (not a `data:` URL).
///
/// `Debug` shows the length of `data`, not the data.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Image {
    /// The declared type; must agree with the bytes' magic number.
    pub media_type: MediaType,
    /// Standard base64 with padding.
    pub data: String,
}

object_only_serde!(Image, "an image object");

impl Image {
    /// Encodes raw image bytes, taking the media type from their magic number.
    ///
    /// Fails when the bytes are not JPEG, PNG, WebP or GIF, or are larger than
    /// [`MAX_IMAGE_BYTES`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Image, InvalidRequest> {
        let mut problems = Vec::new();
        if bytes.len() as u64 > MAX_IMAGE_BYTES {
            problems.push(Problem::new(
                "image",
                ProblemKind::ImageTooLarge {
                    bytes: bytes.len() as u64,
                },
            ));
        }
        let media_type = MediaType::sniff(bytes);
        if media_type.is_none() {
            problems.push(Problem::new("image", ProblemKind::UnrecognizedImage));
        }
        match media_type {
            Some(media_type) if problems.is_empty() => Ok(Image {
                media_type,
                data: base64::engine::general_purpose::STANDARD.encode(bytes),
            }),
            _ => Err(InvalidRequest::new(problems)),
        }
    }

    /// The decoded size implied by the base64 length, without decoding (`None` when the
    /// length is not a multiple of four).
    pub fn decoded_len(&self) -> Option<u64> {
        crate::validate::base64_decoded_len(self.data.as_bytes())
    }
}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Image")
            .field("media_type", &self.media_type)
            .field("data_len", &self.data.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];

    #[test]
    fn sniffs_each_type() {
        assert_eq!(
            MediaType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(MediaType::Jpeg)
        );
        assert_eq!(MediaType::sniff(PNG), Some(MediaType::Png));
        assert_eq!(MediaType::sniff(b"GIF87a..."), Some(MediaType::Gif));
        assert_eq!(MediaType::sniff(b"GIF89a"), Some(MediaType::Gif));
        assert_eq!(
            MediaType::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(MediaType::Webp)
        );
        assert_eq!(MediaType::sniff(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(MediaType::sniff(b"RIFF"), None);
        assert_eq!(MediaType::sniff(b"GIF88a"), None);
        assert_eq!(MediaType::sniff(&[]), None);
    }

    #[test]
    fn media_type_serde() {
        let m: MediaType = serde_json::from_str("\"IMAGE/PNG\"").unwrap();
        assert_eq!(m, MediaType::Png);
        let m: MediaType = serde_json::from_str("\"image/bmp\"").unwrap();
        assert_eq!(m, MediaType::Other("image/bmp".into()));
        assert!(!m.is_supported());
        assert_eq!(
            serde_json::to_string(&MediaType::Webp).unwrap(),
            "\"image/webp\""
        );
    }

    #[test]
    fn image_from_bytes() {
        let img = Image::from_bytes(PNG).unwrap();
        assert_eq!(img.media_type, MediaType::Png);
        assert_eq!(img.decoded_len(), Some(PNG.len() as u64));
        let json = serde_json::to_value(&img).unwrap();
        assert_eq!(json["media_type"], "image/png");
        assert_eq!(json["data"], "iVBORw0KGgoAAAAN");
        assert!(!format!("{img:?}").contains("iVBOR"));

        let err = Image::from_bytes(b"plain text").unwrap_err();
        assert_eq!(err.problems()[0].kind, ProblemKind::UnrecognizedImage);
    }

    #[test]
    fn prompt_omits_empty_images() {
        let json = serde_json::to_string(&Prompt::new("hi")).unwrap();
        assert_eq!(json, r#"{"text":"hi"}"#);
        let p: Prompt = serde_json::from_str(r#"{"text":"hi","extra":1}"#).unwrap();
        assert!(p.images.is_empty());
    }

    #[test]
    fn media_type_parse_ignores_ascii_case_only() {
        assert_eq!(MediaType::parse("IMAGE/JPEG"), MediaType::Jpeg);
        assert_eq!(MediaType::parse("image/Png"), MediaType::Png);
        assert_eq!(MediaType::parse("Image/WebP"), MediaType::Webp);
        assert_eq!(MediaType::parse("image/gif"), MediaType::Gif);
        for other in ["", "image/svg+xml", "image/pnǵ", "image/jpg"] {
            assert_eq!(MediaType::parse(other), MediaType::Other(other.into()));
        }
        let m: MediaType = serde_json::from_str(r#""image\/png""#).unwrap();
        assert_eq!(m, MediaType::Png);
    }
}
