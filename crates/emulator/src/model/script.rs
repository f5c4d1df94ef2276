//! Scripted agent behaviour: prompt markers and the deterministic answer text.

/// Outcome switches read from a prompt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Markers {
    /// `[fail]`: the turn ends `failed` with an error row.
    pub fail: bool,
    /// `[slow]`: every phase lasts 10× longer.
    pub slow: bool,
    /// `[tool]`: the turn passes through `awaiting_tool`.
    pub tool: bool,
    /// `[trailing]`: tool and error rows follow the answer.
    pub trailing: bool,
    /// `[never]`: the turn runs until stopped (or forced to complete).
    pub never: bool,
}

impl Markers {
    /// Reads markers (case-insensitive) from prompt text.
    pub fn parse(text: &str) -> Self {
        let t = text.to_ascii_lowercase();
        Self {
            fail: t.contains("[fail]"),
            slow: t.contains("[slow]"),
            tool: t.contains("[tool]"),
            trailing: t.contains("[trailing]"),
            never: t.contains("[never]"),
        }
    }
}

/// Everything an answer is derived from.
#[derive(Debug)]
pub struct AnswerInput<'a> {
    /// 1-based turn number.
    pub turn: u32,
    /// Prompt text, if any.
    pub prompt: Option<&'a str>,
    /// Media types of the prompt's images.
    pub image_types: &'a [String],
    /// Names of attached files (fileIds).
    pub files: &'a [String],
    /// Workflow name, if any.
    pub workflow: Option<&'a str>,
    /// Slot inputs: slot name and file names.
    pub inputs: &'a [(String, Vec<String>)],
}

/// The assistant's answer: quotes the prompt, names files, images, workflow and turn.
pub fn answer(a: &AnswerInput<'_>) -> String {
    let mut s = format!("Turn {} answer.", a.turn);
    match a.prompt {
        Some(p) => s.push_str(&format!(" You asked: \"{p}\".")),
        None => s.push_str(" No prompt was given."),
    }
    if a.files.is_empty() {
        s.push_str(" No files attached.");
    } else {
        s.push_str(&format!(" Attached files: {}.", a.files.join(", ")));
    }
    if a.image_types.is_empty() {
        s.push_str(" No images.");
    } else {
        s.push_str(&format!(
            " Images: {} ({}).",
            a.image_types.len(),
            a.image_types.join(", ")
        ));
    }
    if let Some(w) = a.workflow {
        s.push_str(&format!(" Workflow: {w}."));
        if !a.inputs.is_empty() {
            let parts: Vec<String> = a
                .inputs
                .iter()
                .map(|(k, v)| format!("{k} = [{}]", v.join(", ")))
                .collect();
            s.push_str(&format!(" Inputs: {}.", parts.join("; ")));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_case_insensitively() {
        let m = Markers::parse("please [FAIL] and [tool]");
        assert!(m.fail && m.tool && !m.slow && !m.never && !m.trailing);
        assert_eq!(Markers::parse("plain"), Markers::default());
    }

    #[test]
    fn answer_names_everything() {
        let imgs = vec!["image/png".to_string(), "image/gif".to_string()];
        let files = vec!["a.pdf".to_string()];
        let inputs = vec![("submittal".to_string(), vec!["s.pdf".to_string()])];
        let text = answer(&AnswerInput {
            turn: 2,
            prompt: Some("check it"),
            image_types: &imgs,
            files: &files,
            workflow: Some("Review"),
            inputs: &inputs,
        });
        assert!(text.contains("Turn 2"));
        assert!(text.contains("\"check it\""));
        assert!(text.contains("a.pdf"));
        assert!(text.contains("Images: 2 (image/png, image/gif)"));
        assert!(text.contains("Workflow: Review"));
        assert!(text.contains("submittal = [s.pdf]"));
    }
}
