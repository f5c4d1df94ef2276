//! Formatting shared by the section renderers: numbers, tables, verdicts, note templates.

use std::fmt::{self, Write};

/// A figure as the tables show it: whole numbers without decimals, then three significant
/// digits or so (0 decimals from 100, 1 from 10, else 2).
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// A setting as written (a time scale, a target): the shortest exact form, `0.005`, `0.9`.
pub fn setting(x: f64) -> String {
    format!("{x}")
}

/// A fraction as a percentage with one decimal: `0.9871` → `98.7 %`.
pub fn percent(fraction: f64) -> String {
    format!("{:.1} %", fraction * 100.0)
}

/// A count with thousands separators: `10000` → `10,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A size in the largest binary unit that divides it: `1073741824` → `1 GiB`.
pub fn binary_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    UNITS
        .iter()
        .find(|(unit, _)| bytes >= *unit && bytes.is_multiple_of(*unit))
        .map_or_else(
            || format!("{bytes} bytes"),
            |(unit, name)| format!("{} {name}", bytes / unit),
        )
}

/// A count in words up to twelve, as prose writes it (`3` → `three`), else in digits.
pub fn spelled(n: u64) -> String {
    const WORDS: [&str; 13] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    usize::try_from(n)
        .ok()
        .and_then(|i| WORDS.get(i))
        .map_or_else(|| n.to_string(), |w| (*w).to_owned())
}

/// `s` with its first letter upper-cased, to open a sentence.
pub fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// `a / b` for two figures of the same run; `NaN` (shown as `–`) when `b` is zero.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { f64::NAN } else { a / b }
}

/// "zero 429s", or "at most N 429s".
pub fn at_most_429s(n: u64) -> String {
    if n == 0 {
        "zero 429s".into()
    } else {
        format!("at most {n} 429s")
    }
}

/// `a`, `a and b`, `a, b and c`.
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A markdown table followed by a blank line.
pub fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let _ = writeln!(out, "|{}|", vec!["---"; head.len()].join("|"));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
    out.push('\n');
    out
}

/// Replaces every `{{key}}` in `template` with its value. A placeholder without a value stays
/// as it is (the note tests look for leftovers).
pub fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (key, value) in values {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    out
}

/// Whether a run met a benchmark's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every figure the target names is within it.
    Met,
    /// At least one is not (or nothing was measured).
    NotMet,
    /// The benchmark reports figures without a target.
    NoTarget,
}

impl Verdict {
    /// `Met` when `ok`, else `NotMet`.
    pub fn from_bool(ok: bool) -> Verdict {
        if ok { Verdict::Met } else { Verdict::NotMet }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Met => "**met**",
            Verdict::NotMet => "**not met**",
            Verdict::NoTarget => "n/a",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn num_keeps_about_three_significant_digits() {
        assert_eq!(num(7.0), "7");
        assert_eq!(num(12233.0), "12233");
        assert_eq!(num(1773.4), "1773");
        assert_eq!(num(27.93), "27.9");
        assert_eq!(num(0.8), "0.80");
        assert_eq!(num(0.0862), "0.09");
        assert_eq!(num(f64::NAN), "–");
    }

    #[test]
    fn settings_percentages_and_counts() {
        assert_eq!(setting(0.005), "0.005");
        assert_eq!(setting(0.9), "0.9");
        assert_eq!(percent(1.0013), "100.1 %");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(binary_size(1 << 30), "1 GiB");
        assert_eq!(spelled(3), "three");
        assert_eq!(spelled(13), "13");
        assert_eq!(capitalized("eight workers"), "Eight workers");
        assert_eq!(binary_size(64 << 10), "64 KiB");
        assert_eq!(binary_size(1000), "1000 bytes");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert!(ratio(1.0, 0.0).is_nan());
        assert_eq!(ratio(3.0, 2.0), 1.5);
        assert_eq!(and_list(&["a".into()]), "a");
        assert_eq!(
            and_list(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
    }

    #[test]
    fn tables_have_a_rule_per_column() {
        let t = table(&["a", "b"], &[vec!["1".into(), "2".into()]]);
        assert_eq!(t, "| a | b |\n|---|---|\n| 1 | 2 |\n\n");
    }

    #[test]
    fn fill_replaces_placeholders_and_leaves_unknown_ones() {
        let s = fill("x {{a}} `{id}` {{b}}", &[("a", "1".into())]);
        assert_eq!(s, "x 1 `{id}` {{b}}");
    }
}
