//! Parsing ids and `--input SLOT=UUID|PATH` values into typed values, with usage errors that
//! name the flag.

use std::path::PathBuf;
use std::str::FromStr;

use crate::exit::CliError;

/// Parses an id flag or argument (`AgentId`, `FileId`, …).
pub fn id<T: FromStr>(what: &str, raw: &str) -> Result<T, CliError>
where
    T::Err: std::fmt::Display,
{
    raw.trim()
        .parse()
        .map_err(|e| CliError::usage(format!("{what} {raw:?} is not a valid id: {e}")))
}

/// Where a slot's file comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotSource {
    /// An uploaded file's id.
    Id(nomic_agent::FileId),
    /// A local file to upload first.
    Path(PathBuf),
}

/// One `--input SLOT=UUID|PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInput {
    /// The slot name.
    pub slot: String,
    /// The file.
    pub source: SlotSource,
}

/// Parses `SLOT=UUID|PATH`: a value that parses as a UUID is an id, anything else a path
/// that must exist (so a mistyped id is reported instead of uploaded).
pub fn slot_input(raw: &str) -> Result<SlotInput, CliError> {
    let (slot, value) = raw.split_once('=').ok_or_else(|| {
        CliError::usage(format!("--input {raw:?}: expected SLOT=UUID or SLOT=PATH"))
    })?;
    let slot = slot.trim();
    if slot.is_empty() || value.is_empty() {
        return Err(CliError::usage(format!(
            "--input {raw:?}: both the slot name and the file are needed (SLOT=UUID or SLOT=PATH)"
        )));
    }
    let source = match value.trim().parse::<nomic_agent::FileId>() {
        Ok(id) => SlotSource::Id(id),
        Err(_) => {
            let path = PathBuf::from(value);
            if !path.is_file() {
                return Err(CliError::usage(format!(
                    "--input {slot}={value}: neither a file id (UUID) nor an existing file"
                )));
            }
            SlotSource::Path(path)
        }
    };
    Ok(SlotInput {
        slot: slot.to_owned(),
        source,
    })
}

/// Checks that every path names a readable regular file, before anything is sent.
pub fn existing_files<'a>(
    flag: &str,
    paths: impl IntoIterator<Item = &'a PathBuf>,
) -> Result<(), CliError> {
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                return Err(CliError::usage(format!(
                    "{flag} {}: not a regular file",
                    p.display()
                )));
            }
            Err(e) => {
                return Err(CliError::usage(format!("{flag} {}: {e}", p.display())));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Exit;
    use nomic_agent::AgentId;

    #[test]
    fn ids_parse_or_name_the_flag() {
        let ok: AgentId = id("agent id", "019abc12-3456-7890-abcd-ef1234567890").unwrap();
        assert_eq!(ok.to_string(), "019abc12-3456-7890-abcd-ef1234567890");
        let e = id::<AgentId>("--workflow", "nope").unwrap_err();
        assert_eq!(e.exit, Exit::Usage);
        assert!(e.message.contains("--workflow"), "{}", e.message);
    }

    #[test]
    fn slot_inputs_take_ids_or_existing_paths() {
        let s = slot_input("docs=019abc12-3456-7890-abcd-ef1234567890").unwrap();
        assert_eq!(s.slot, "docs");
        assert!(matches!(s.source, SlotSource::Id(_)));

        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a=b.txt");
        std::fs::write(&f, "x").unwrap();
        let s = slot_input(&format!("docs={}", f.display())).unwrap();
        assert_eq!(s.source, SlotSource::Path(f));

        for bad in ["docs", "=x", "docs=", "docs=/no/such/file"] {
            assert_eq!(slot_input(bad).unwrap_err().exit, Exit::Usage, "{bad}");
        }
    }

    #[test]
    fn missing_files_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let e = existing_files("--file", [&dir.path().join("nope")]).unwrap_err();
        assert!(e.message.starts_with("--file"), "{}", e.message);
        let e = existing_files("--file", [&dir.path().to_path_buf()]).unwrap_err();
        assert!(e.message.contains("not a regular file"));
    }
}
