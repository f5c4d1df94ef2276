//! Percent-encoding of query components.

/// Characters left as they are: RFC 3986 unreserved.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes a query key or value: everything but RFC 3986 unreserved characters
/// becomes `%XX` (space is `%20`, never `+`).
pub fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if is_unreserved(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

/// Decodes `%XX` escapes (`+` is left as is). Returns `None` for a bad escape or bytes that
/// are not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hi = char::from(hex[0]).to_digit(16)?;
            let lo = char::from(hex[1]).to_digit(16)?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Builds `?k=v&k=v`.
#[derive(Debug, Default)]
pub(crate) struct QueryString(String);

impl QueryString {
    pub(crate) fn push(&mut self, key: &str, value: &str) {
        self.push_raw(key, &percent_encode(value));
    }

    /// `value` must already be encoded.
    pub(crate) fn push_raw(&mut self, key: &str, value: &str) {
        self.0.push(if self.0.is_empty() { '?' } else { '&' });
        self.0.push_str(key);
        self.0.push('=');
        self.0.push_str(value);
    }

    /// The `limit` and `cursor` parameters every paginated list takes, in that order.
    pub(crate) fn push_page(&mut self, limit: Option<u32>, cursor: Option<&str>) {
        if let Some(limit) = limit {
            self.push("limit", &limit.to_string());
        }
        if let Some(cursor) = cursor {
            self.push("cursor", cursor);
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_and_unicode() {
        assert_eq!(
            percent_encode("a b&c=d/e?f#g+h%"),
            "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25"
        );
        assert_eq!(percent_encode("Az09-._~"), "Az09-._~");
        assert_eq!(percent_encode("é"), "%C3%A9");
        assert_eq!(percent_decode("a%20b%c3%A9").as_deref(), Some("a bé"));
        assert_eq!(percent_decode("%2"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%FF"), None);
    }

    #[test]
    fn query_string_joins() {
        let mut q = QueryString::default();
        assert_eq!(q.as_str(), "");
        q.push("a", "1 2");
        q.push("b", "x");
        assert_eq!(q.as_str(), "?a=1%202&b=x");
    }
}
