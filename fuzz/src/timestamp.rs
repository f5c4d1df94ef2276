//! `Timestamp`: RFC 3339 parsing, formatting and `differs_from`.

use nomic_agent_core::wire::Timestamp;

/// The first up-to-8 bytes are also read as unix milliseconds; the whole input as a
/// timestamp string.
pub fn check(data: &[u8]) {
    let mut millis = [0u8; 8];
    let n = data.len().min(8);
    millis[..n].copy_from_slice(&data[..n]);
    let millis = i64::from_le_bytes(millis);
    if let Some(t) = Timestamp::from_unix_millis(millis) {
        assert_eq!(t.unix_millis(), Some(millis), "format then parse: {t}");
        assert_eq!(t.as_str().len(), 24, "fixed-width format: {t}");
    }
    if let Ok(s) = std::str::from_utf8(data) {
        check_timestamp(&Timestamp::from(s));
        // Two prefixes of the input: `differs_from` stays symmetric.
        let (a, b) = (Timestamp::from(s), Timestamp::from(s.trim_end_matches('Z')));
        assert_eq!(
            a.differs_from(&b),
            b.differs_from(&a),
            "differs_from symmetry"
        );
    }
}

/// Invariants of any timestamp a decoder produced.
pub(crate) fn check_timestamp(t: &Timestamp) {
    assert!(!t.differs_from(&t.clone()), "differs from itself");
    let Some(ms) = t.unix_millis() else { return };
    // Parsed instants lie in the years the format can write (an offset moves at most a day).
    const DAY: i64 = 86_400_000;
    assert!((-62_167_219_200_000 - DAY..=253_402_300_799_999 + DAY).contains(&ms));
    if let Some(canonical) = Timestamp::from_unix_millis(ms) {
        assert_eq!(
            canonical.unix_millis(),
            Some(ms),
            "canonical form re-parses"
        );
        assert!(
            !t.differs_from(&canonical),
            "same instant counted as a change"
        );
        assert!(
            !canonical.differs_from(t),
            "same instant counted as a change"
        );
    }
    if let Some(later) = Timestamp::from_unix_millis(ms + 1) {
        assert!(t.differs_from(&later), "a later instant is a change");
    }
}
