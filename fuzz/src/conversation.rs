//! `wire::decode_conversation` and the answer extraction on its result.

use nomic_agent_core::answer::{AnswerCheck, answer_after_prompt, final_answer};
use nomic_agent_core::wire::{Conversation, DataEnvelope, Role, decode_conversation};

use crate::{check_decode_error, to_json};

/// Decodes `data` as a conversation, then reads its answer.
pub fn check(data: &[u8]) {
    let conversation = match decode_conversation(data) {
        Ok(c) => c,
        Err(err) => return check_decode_error(&err, data),
    };
    // Bare and wrapped encodings both decode to the same conversation.
    let bare = decode_conversation(&to_json(&conversation)).expect("bare re-decodes");
    assert_eq!(bare, conversation, "bare conversation round trip");
    let wrapped = to_json(&DataEnvelope {
        data: conversation.clone(),
    });
    let wrapped = decode_conversation(&wrapped).expect("wrapped re-decodes");
    assert_eq!(wrapped, conversation, "wrapped conversation round trip");

    for m in &conversation.messages {
        assert_eq!(Role::parse(m.role.as_str()), m.role, "role re-parse");
    }
    check_answer(&conversation);
}

fn check_answer(conversation: &Conversation) {
    let rows = &conversation.messages;
    let answer = final_answer(conversation);
    let Some(last_user) = rows.iter().rposition(|m| m.role == Role::User) else {
        assert_eq!(answer, None, "an answer without a user row");
        assert_eq!(
            answer_after_prompt(conversation, "anything"),
            AnswerCheck::PromptNotLast
        );
        return;
    };
    // Independent oracle: the non-blank assistant texts after the last user row.
    let after: Vec<&str> = rows[last_user + 1..]
        .iter()
        .filter(|m| m.role == Role::Assistant && !m.text.trim().is_empty())
        .map(|m| m.text.as_str())
        .collect();
    match &answer {
        None => assert!(
            after.is_empty(),
            "assistant text after the last user row lost"
        ),
        Some(a) => {
            assert!(!a.trim().is_empty(), "blank answer");
            assert!(
                !after.is_empty(),
                "answer with no assistant row after the user row"
            );
            assert!(a.starts_with(after[0]) && a.ends_with(after[after.len() - 1]));
            assert!(a.len() >= after.iter().map(|t| t.len()).sum::<usize>());
        }
    }
    // Confirming against the last prompt agrees with `final_answer`.
    let prompt = rows[last_user].text.clone();
    let check = answer_after_prompt(conversation, &prompt);
    match answer {
        Some(a) => assert_eq!(check, AnswerCheck::Answered(a)),
        None => assert_eq!(check, AnswerCheck::NoAnswerYet),
    }
    // Surrounding white space is ignored; a different prompt is never confirmed.
    let padded = format!("  {prompt}\n");
    assert_eq!(answer_after_prompt(conversation, &padded), check);
    let other = format!("{}#not-the-prompt", prompt.trim());
    assert_eq!(
        answer_after_prompt(conversation, &other),
        AnswerCheck::PromptNotLast
    );
}
