//! Upload a file (streamed, constant memory) and an inline image, then ask an agent about both.
//!
//! `cargo run -p nomic-agent --example upload_and_analyze [FILE]` — without FILE a small
//! sample report is written to a temporary file first.

mod common;

use std::path::{Path, PathBuf};

use nomic_agent::{Client, Error, Image, LaunchRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _emulator) = common::connect().await?;
    let path = std::env::args_os().nth(1).map(PathBuf::from);
    run(&client, path.as_deref()).await?;
    Ok(())
}

/// A 1×1 PNG, standing in for a site photo.
const PHOTO: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89,
];

/// The example's body: uploads `path` (or a sample), returns the answer.
pub async fn run(client: &Client, path: Option<&Path>) -> Result<String, Error> {
    let sample;
    let path = match path {
        Some(p) => p,
        None => {
            sample = std::env::temp_dir()
                .join(format!("nomic-sample-report-{}.txt", std::process::id()));
            std::fs::write(
                &sample,
                "Level 3: two guardrails missing; fire door propped open.\n",
            )
            .map_err(|e| Error::Io {
                message: "could not write the sample report".into(),
                source: e,
            })?;
            &sample
        }
    };
    let file = client.upload_path(path).await?;
    println!("uploaded {} as {}", file.name, file.id);
    let request = LaunchRequest::prompt("List the safety issues in the report and the photo.")
        .file(file.id)
        .image(Image::from_bytes(PHOTO)?);
    let outcome = client.launch(request).await?.wait().await?;
    let answer = outcome.answer.unwrap_or_default();
    println!("{answer}");
    Ok(answer)
}
