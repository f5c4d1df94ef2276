//! The page decoders (`decode_agent_page`, `decode_file_page`, `decode_workflow_page`):
//! every item is consistent and every page round-trips.

use nomic_agent_core::wire::{decode_agent_page, decode_file_page, decode_workflow_page};

use crate::agent::check_agent;
use crate::{check_decode_error, to_json};

/// Decodes `data` as each of the three page kinds.
pub fn check(data: &[u8]) {
    match decode_agent_page(data) {
        Ok(page) => {
            page.data.iter().for_each(check_agent);
            let again = decode_agent_page(&to_json(&page)).expect("agent page re-decodes");
            assert_eq!(again, page, "agent page round trip");
        }
        Err(err) => check_decode_error(&err, data),
    }
    match decode_file_page(data) {
        Ok(page) => {
            let again = decode_file_page(&to_json(&page)).expect("file page re-decodes");
            assert_eq!(again, page, "file page round trip");
        }
        Err(err) => check_decode_error(&err, data),
    }
    match decode_workflow_page(data) {
        Ok(page) => {
            for workflow in &page.data {
                assert_eq!(workflow.is_file_slot(), !workflow.inputs.is_empty());
                for slot in &workflow.inputs {
                    // `slot` finds the first slot of a name.
                    let found = workflow.slot(&slot.name).expect("declared slot is found");
                    assert_eq!(found.name, slot.name);
                }
            }
            let again = decode_workflow_page(&to_json(&page)).expect("workflow page re-decodes");
            assert_eq!(again, page, "workflow page round trip");
        }
        Err(err) => check_decode_error(&err, data),
    }
}
