//! `demo`: a scripted tour on an embedded emulator — upload a document, launch with an image,
//! wait, print the answer and artifacts, follow up, print the new answer.

use std::io::Cursor;

use nomic_agent::{
    Agent, ArtifactContent, ArtifactKind, Image, LaunchRequest, Prompt, TableCell, TurnOutcome,
    UploadForm,
};
use serde_json::json;

use crate::args::GlobalArgs;
use crate::connect;
use crate::console::Console;
use crate::exit::{CliError, Exit};
use crate::turn::{self, TurnDoc};

/// The sample assets, compiled in so the demo runs from any directory.
const REPORT_NAME: &str = "inspection-report.md";
const REPORT: &[u8] = include_bytes!("../../../../assets/inspection-report.md");
const PHOTO: &[u8] = include_bytes!("../../../../assets/site-photo.png");

const FIRST_PROMPT: &str =
    "Review the attached site photo and inspection report and list the open safety issues.";
const FOLLOW_UP_PROMPT: &str = "Which of those issues must be fixed before work resumes?";

/// A cell as text.
fn cell(c: &TableCell) -> String {
    match c {
        TableCell::Text(s) => s.clone(),
        TableCell::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// An artifact's content for the terminal: markdown as is, tables as ` | `-separated rows.
fn render(kind: &ArtifactKind, content: &ArtifactContent) -> String {
    let text = match kind {
        ArtifactKind::Table => content.as_table().ok().map(|t| {
            let mut lines = vec![t.columns.join(" | ")];
            lines.extend(
                t.rows
                    .iter()
                    .map(|r| r.iter().map(cell).collect::<Vec<_>>().join(" | ")),
            );
            lines.join("\n")
        }),
        _ => content.as_text().ok().map(str::to_owned),
    };
    text.unwrap_or_else(|| {
        format!(
            "({} bytes of {})",
            content.bytes.len(),
            content.content_type
        )
    })
}

/// Prints a turn's answer and every artifact's content (human mode).
async fn show(console: &Console, agent: &Agent, outcome: &TurnOutcome) -> Result<(), CliError> {
    console.note(&format!("agent {} {}", agent.id(), outcome.status));
    console.out("--- answer ---");
    console.out(outcome.answer.as_deref().unwrap_or("(no answer)"));
    for meta in &outcome.artifacts {
        let content = agent.client().artifact(agent.id(), meta.id).await?;
        console.out(&format!("--- artifact: {} ({}) ---", meta.title, meta.kind));
        console.out(&render(&meta.kind, &content));
    }
    Ok(())
}

/// `demo`.
pub async fn demo(g: &GlobalArgs, console: Console) -> Result<Exit, CliError> {
    if g.base_url.is_some() {
        console.always_note("demo always runs on an embedded emulator; --base-url is ignored");
    }
    let mut g = g.clone();
    g.base_url = None;
    g.api_key = None;
    let conn = connect::connect(&g, &console).await?;
    let result = tour(&conn.client, &console).await;
    conn.close().await;
    result
}

async fn tour(client: &nomic_agent::Client, console: &Console) -> Result<Exit, CliError> {
    console.note(&format!("1/4 uploading {REPORT_NAME}"));
    let form = UploadForm::new(REPORT_NAME, "text/markdown");
    let file = client
        .upload_reader(form, Cursor::new(REPORT), Some(REPORT.len() as u64))
        .await?;
    console.note(&format!("    file {}", file.id));

    console.note("2/4 launching an agent with the site photo and the report");
    let image = Image::from_bytes(PHOTO).map_err(nomic_agent::Error::from)?;
    let req = LaunchRequest::prompt(FIRST_PROMPT)
        .image(image)
        .file(file.id);
    let agent = client.launch(req).await?;
    let first = turn::wait_shown(&agent, console).await?;
    if !console.json {
        show(console, &agent, &first).await?;
    }
    if !first.is_finished() {
        return finish(console, &file, &agent, &first, None);
    }

    console.note(&format!("3/4 following up: {FOLLOW_UP_PROMPT}"));
    agent.follow_up(Prompt::new(FOLLOW_UP_PROMPT)).await?;
    let second = turn::wait_shown(&agent, console).await?;
    console.note("4/4 the follow-up's answer");
    if !console.json {
        show(console, &agent, &second).await?;
    }
    finish(console, &file, &agent, &first, Some(&second))
}

/// The `--json` document and the exit of the last turn.
fn finish(
    console: &Console,
    file: &nomic_agent::UploadedFile,
    agent: &Agent,
    first: &TurnOutcome,
    second: Option<&TurnOutcome>,
) -> Result<Exit, CliError> {
    let doc = |o: &TurnOutcome| TurnDoc::from_outcome(o, turn::url_of(agent, &o.agent));
    console.document(&json!({
        "upload": file,
        "launch": doc(first),
        "followUp": second.map(doc),
    }))?;
    Ok(Exit::for_status(&second.unwrap_or(first).status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_photo_is_a_small_png() {
        let img = Image::from_bytes(PHOTO).unwrap();
        assert_eq!(img.media_type.as_str(), "image/png");
        assert!(PHOTO.len() < 1024);
    }

    #[test]
    fn tables_render_as_rows() {
        let c = ArtifactContent::new(
            "application/json",
            r#"{"columns":["turn","words"],"rows":[["1",12],[null,3]]}"#
                .as_bytes()
                .to_vec()
                .into(),
        );
        assert_eq!(
            render(&ArtifactKind::Table, &c),
            "turn | words\n1 | 12\n | 3"
        );
        let d = ArtifactContent::new("text/markdown", b"# Hi".to_vec().into());
        assert_eq!(render(&ArtifactKind::Document, &d), "# Hi");
    }
}
