//! Building inline prompt images from files.
//!
//! [`Image::from_bytes`] (from core) takes the media type from the bytes' magic number;
//! [`ImageExt::from_path`] does the same for a file, refusing files over 20 MiB before reading
//! them.

use std::future::Future;
use std::path::Path;

use nomic_agent_core::wire::{Image, MAX_IMAGE_BYTES};

use crate::Error;

/// Adds [`from_path`](ImageExt::from_path) to [`Image`]. Import it (or `nomic_agent::prelude::*`)
/// to call `Image::from_path(…)`.
pub trait ImageExt: Sized {
    /// Reads an image file; the media type comes from the bytes, not the file name.
    ///
    /// Fails with [`Error::Invalid`] when the file is over 20 MiB or not a JPEG, PNG, WebP or
    /// GIF image, and with [`Error::Io`] when it cannot be read.
    fn from_path(path: impl AsRef<Path> + Send)
    -> impl Future<Output = Result<Self, Error>> + Send;
}

impl ImageExt for Image {
    async fn from_path(path: impl AsRef<Path> + Send) -> Result<Image, Error> {
        let path = path.as_ref();
        let io = |e| Error::io(format!("could not read image {}", path.display()), e);
        let size = tokio::fs::metadata(path).await.map_err(io)?.len();
        if size > MAX_IMAGE_BYTES {
            return Err(Error::Invalid {
                issues: vec![format!(
                    "{}: image is {size} bytes, more than the 20 MiB limit",
                    path.display()
                )],
                api: None,
            });
        }
        let bytes = tokio::fs::read(path).await.map_err(io)?;
        Image::from_bytes(&bytes).map_err(|e| Error::Invalid {
            issues: e
                .problems()
                .iter()
                .map(|p| format!("{}: {}", path.display(), p.kind))
                .collect(),
            api: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomic_agent_core::wire::MediaType;

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];

    #[tokio::test]
    async fn reads_png_from_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jpg"); // the name lies; the bytes decide
        std::fs::write(&p, PNG).unwrap();
        let img = Image::from_path(&p).await.unwrap();
        assert_eq!(img.media_type, MediaType::Png);
        assert_eq!(img.decoded_len(), Some(PNG.len() as u64));
    }

    #[tokio::test]
    async fn refuses_text_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("notes.png");
        std::fs::write(&p, b"hello").unwrap();
        let err = Image::from_path(&p).await.unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{err}");
        let err = Image::from_path(dir.path().join("nope.png"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
    }
}
