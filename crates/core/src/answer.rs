//! Extracting a turn's final answer from the conversation.

use crate::wire::{Conversation, Message, Role};

/// The assistant text after the last `user` row: trailing tool, error and other rows are
/// skipped, several assistant rows are joined with a blank line, empty ones ignored.
/// `None` when no assistant text follows the last user row (or there is no user row).
pub fn final_answer(conversation: &Conversation) -> Option<String> {
    let last_user = conversation
        .messages
        .iter()
        .rposition(|m| m.role == Role::User)?;
    answer_after(&conversation.messages[last_user + 1..])
}

fn answer_after(rows: &[Message]) -> Option<String> {
    let parts: Vec<&str> = rows
        .iter()
        .filter(|m| m.role == Role::Assistant && !m.text.trim().is_empty())
        .map(|m| m.text.as_str())
        .collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("\n\n"))
    }
}

/// What the conversation says about a follow-up we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerCheck {
    /// Our prompt is the last user row and this answer follows it.
    Answered(String),
    /// The last user row is not our prompt: the follow-up has not been recorded yet (or
    /// someone else prompted since).
    PromptNotLast,
    /// Our prompt is the last user row but no assistant text follows it yet.
    NoAnswerYet,
}

/// Confirms from the conversation that the turn started by `prompt_text` has an answer.
/// The comparison ignores leading and trailing white space, which servers may trim.
pub fn answer_after_prompt(conversation: &Conversation, prompt_text: &str) -> AnswerCheck {
    let Some(last_user) = conversation
        .messages
        .iter()
        .rposition(|m| m.role == Role::User)
    else {
        return AnswerCheck::PromptNotLast;
    };
    if conversation.messages[last_user].text.trim() != prompt_text.trim() {
        return AnswerCheck::PromptNotLast;
    }
    match answer_after(&conversation.messages[last_user + 1..]) {
        Some(answer) => AnswerCheck::Answered(answer),
        None => AnswerCheck::NoAnswerYet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(rows: &[(&str, &str)]) -> Conversation {
        Conversation::new(
            rows.iter()
                .map(|(role, text)| Message::new(Role::parse(role), *text))
                .collect(),
        )
    }

    #[test]
    fn takes_text_after_last_user_row() {
        let c = conv(&[
            ("user", "q1"),
            ("assistant", "old answer"),
            ("user", "q2"),
            ("tool", ""),
            ("assistant", "part one"),
            ("tool", "result"),
            ("assistant", "part two"),
            ("error", "tool timed out"),
            ("tool", ""),
        ]);
        assert_eq!(final_answer(&c).as_deref(), Some("part one\n\npart two"));
    }

    #[test]
    fn none_without_a_fresh_answer() {
        assert_eq!(final_answer(&conv(&[])), None);
        assert_eq!(final_answer(&conv(&[("assistant", "hi")])), None);
        assert_eq!(
            final_answer(&conv(&[
                ("user", "q1"),
                ("assistant", "a1"),
                ("user", "q2")
            ])),
            None
        );
        assert_eq!(
            final_answer(&conv(&[
                ("user", "q"),
                ("assistant", "  "),
                ("error", "boom")
            ])),
            None
        );
    }

    #[test]
    fn upper_case_roles_count() {
        let c = conv(&[("USER", "q"), ("Assistant", "a")]);
        assert_eq!(final_answer(&c).as_deref(), Some("a"));
    }

    #[test]
    fn answer_after_prompt_cases() {
        let c = conv(&[("user", "q1"), ("assistant", "a1")]);
        assert_eq!(answer_after_prompt(&c, "q2"), AnswerCheck::PromptNotLast);
        assert_eq!(
            answer_after_prompt(&conv(&[]), "q"),
            AnswerCheck::PromptNotLast
        );
        let c = conv(&[
            ("user", "q1"),
            ("assistant", "a1"),
            ("user", "q2 "),
            ("tool", ""),
        ]);
        assert_eq!(answer_after_prompt(&c, "q2"), AnswerCheck::NoAnswerYet);
        let c = conv(&[
            ("user", "q1"),
            ("assistant", "a1"),
            ("user", "q2"),
            ("assistant", "a2"),
        ]);
        assert_eq!(
            answer_after_prompt(&c, "q2"),
            AnswerCheck::Answered("a2".into())
        );
    }
}
