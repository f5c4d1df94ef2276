//! What text may reach a terminal: the one rule for every byte this program prints.
//!
//! Server text (titles, answers, names, error messages) can carry control characters that a
//! terminal obeys: ESC starts escape sequences (colours, cursor moves, window titles, OSC 8
//! links, clipboard writes), BEL rings, CR overwrites the line, a C1 character is an 8-bit
//! escape on terminals that honour it. [`Console`](crate::console::Console) passes every human
//! line through [`neutralize`] and every JSON document through [`neutralize_json`], so no
//! printer has to remember to; `clippy.toml` forbids printing by any other way.
//!
//! What is not handled is listed in `docs/cli.md` (newlines in one-line fields, look-alike
//! and invisible characters other than the bidi controls).

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` must not reach a terminal raw: C0 controls except `\n` and `\t`, DEL, C1
/// controls, and the bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069),
/// which reorder the rest of a line and can make printed text read as something else.
pub fn is_forbidden(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

/// `text` with every forbidden character written visibly as `\u{…}` (its code point in
/// lowercase hex: ESC is `\u{1b}`, BEL `\u{7}`, CSI `\u{9b}`); borrowed when nothing changes.
pub fn neutralize(text: &str) -> Cow<'_, str> {
    let Some(first) = text.find(is_forbidden) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if is_forbidden(c) {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A JSON text with every forbidden character that the encoder left raw (DEL, C1, the bidi
/// controls: JSON only requires escaping U+0000–U+001F) written as a `\uXXXX` escape. Such a
/// character can only stand inside a JSON string, and the escape decodes to the same
/// character, so the document means exactly what it meant: only its bytes are safe to print.
pub fn neutralize_json(json: &str) -> Cow<'_, str> {
    let Some(first) = json.find(is_forbidden) else {
        return Cow::Borrowed(json);
    };
    let mut out = String::with_capacity(json.len() + 8);
    out.push_str(&json[..first]);
    for c in json[first..].chars() {
        if is_forbidden(c) {
            // Every forbidden character is in the Basic Multilingual Plane: four hex digits.
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_required_set_is_escaped_visibly() {
        assert_eq!(
            neutralize("a\u{1b}[31mred\u{7}\u{7f}\u{9b}2J\u{0}\r"),
            "a\\u{1b}[31mred\\u{7}\\u{7f}\\u{9b}2J\\u{0}\\u{d}"
        );
        assert_eq!(
            neutralize("tab\tand\nnewline stay"),
            "tab\tand\nnewline stay"
        );
        assert_eq!(neutralize("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(neutralize("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        // Neighbours of the ranges are text.
        for c in [
            '\u{20}', '\u{7e}', '\u{a0}', '\u{2029}', '\u{202f}', '\u{2065}',
        ] {
            assert!(!is_forbidden(c), "{c:?}");
        }
        assert!(matches!(neutralize("plain ünïcødé ✓"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_escapes_keep_the_value() {
        let s = "t\u{1b}\u{7f}\u{85}\u{202e}\n";
        let json = serde_json::to_string(&s).unwrap();
        let safe = neutralize_json(&json);
        assert_eq!(safe, r#""t\u001b\u007f\u0085\u202e\n""#);
        assert_eq!(serde_json::from_str::<String>(&safe).unwrap(), s);
    }

    /// Any text, with the forbidden ranges and their neighbours well represented
    /// (`any::<String>()` alone avoids control characters).
    fn text() -> impl Strategy<Value = String> {
        let c = prop_oneof![
            any::<char>(),
            (0u32..0x20).prop_filter_map("char", char::from_u32),
            (0x7eu32..0xa2).prop_filter_map("char", char::from_u32),
            (0x2028u32..0x2070).prop_filter_map("char", char::from_u32),
            prop::char::range(' ', '~'),
        ];
        prop::collection::vec(c, 0..48).prop_map(String::from_iter)
    }

    /// Text without control characters or bidi controls, defined apart from
    /// [`is_forbidden`]: every other character, tab and newline included.
    fn printable() -> impl Strategy<Value = String> {
        let c = prop_oneof![
            "[^\\p{Cc}\u{202a}-\u{202e}\u{2066}-\u{2069}]",
            Just("\t".to_owned()),
            Just("\n".to_owned()),
        ];
        prop::collection::vec(c, 0..48).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn output_never_holds_a_forbidden_char(s in text()) {
            let out = neutralize(&s);
            prop_assert!(!out.chars().any(is_forbidden), "{out:?}");
            // Only the forbidden characters change.
            let kept: String = s.chars().filter(|c| !is_forbidden(*c)).collect();
            prop_assert_eq!(neutralize(&kept), kept.as_str());
        }

        #[test]
        fn printable_text_is_unchanged(s in printable()) {
            prop_assert!(matches!(neutralize(&s), Cow::Borrowed(_)), "{s:?}");
        }

        #[test]
        fn json_round_trips_and_holds_no_forbidden_char(s in text(), pretty in any::<bool>()) {
            let doc = serde_json::json!({"title": s, "list": [s]});
            let json = if pretty {
                serde_json::to_string_pretty(&doc).unwrap()
            } else {
                serde_json::to_string(&doc).unwrap()
            };
            let safe = neutralize_json(&json);
            prop_assert!(!safe.chars().any(is_forbidden), "{safe:?}");
            let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
            prop_assert_eq!(back, doc);
        }
    }
}
