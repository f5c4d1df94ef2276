//! Multipart boundaries.

use std::fmt;

use http::HeaderValue;

/// Random-looking characters: a subset of RFC 2046 `bchars` that needs no quoting.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const PREFIX: &str = "nomic-agent-";
const RANDOM_CHARS: usize = 40;

/// A multipart boundary: `nomic-agent-` followed by 40 alphanumeric characters derived from a
/// seed (52 characters, under RFC 2046's limit of 70).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Boundary(String);

impl Boundary {
    /// Derives a boundary from a seed; the same seed gives the same boundary. Use a fresh
    /// random seed per upload (core has no random source of its own).
    pub fn from_seed(seed: u64) -> Boundary {
        let mut state = seed;
        let mut out = String::with_capacity(PREFIX.len() + RANDOM_CHARS);
        out.push_str(PREFIX);
        while out.len() < PREFIX.len() + RANDOM_CHARS {
            let mut word = splitmix64(&mut state);
            // Ten characters per word keeps each draw's bias below 62^10 / 2^64.
            for _ in 0..10 {
                if out.len() == PREFIX.len() + RANDOM_CHARS {
                    break;
                }
                out.push(char::from(ALPHABET[(word % 62) as usize]));
                word /= 62;
            }
        }
        Boundary(out)
    }

    /// The boundary string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `multipart/form-data; boundary=…`.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.0)
    }

    /// [`Boundary::content_type`] as a header value.
    pub fn content_type_header(&self) -> HeaderValue {
        // The boundary is ASCII alphanumerics and '-', always a valid header value.
        HeaderValue::from_str(&self.content_type()).expect("boundary is visible ASCII")
    }
}

impl fmt::Debug for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Boundary({})", self.0)
    }
}

impl fmt::Display for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_well_formed() {
        let a = Boundary::from_seed(7);
        assert_eq!(a, Boundary::from_seed(7));
        assert_ne!(a, Boundary::from_seed(8));
        assert_eq!(a.as_str().len(), 52);
        assert!(a.as_str().starts_with("nomic-agent-"));
        assert!(
            a.as_str()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        );
        assert_eq!(
            a.content_type_header().to_str().unwrap(),
            format!("multipart/form-data; boundary={a}")
        );
    }

    #[test]
    fn seeds_spread() {
        let all: std::collections::BTreeSet<String> = (0..1000)
            .map(|s| Boundary::from_seed(s).as_str()[12..].to_owned())
            .collect();
        assert_eq!(all.len(), 1000);
    }
}
