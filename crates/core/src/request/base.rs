//! The parsed API root.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::wire::AgentId;

/// Why a base URL was refused. Carries no part of the URL, which may hold credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidBaseUrl {
    /// The string is empty.
    #[error("base URL is empty")]
    Empty,
    /// No `scheme://`.
    #[error("base URL has no scheme (expected https://…)")]
    MissingScheme,
    /// A scheme other than `http` or `https`.
    #[error("base URL scheme must be http or https")]
    UnsupportedScheme,
    /// `user:password@` in the URL; credentials belong in the API key.
    #[error("base URL must not contain user information")]
    Userinfo,
    /// A `?query`.
    #[error("base URL must not contain a query")]
    Query,
    /// A `#fragment`.
    #[error("base URL must not contain a fragment")]
    Fragment,
    /// No host.
    #[error("base URL has no host")]
    MissingHost,
    /// A host with characters that cannot appear in one.
    #[error("base URL host is invalid")]
    InvalidHost,
    /// A port that is not a number in 1–65535.
    #[error("base URL port is invalid")]
    InvalidPort,
    /// A path other than empty, `/` or one ending in `/api/v0`.
    #[error("base URL path must be empty or end with /api/v0")]
    UnexpectedPath,
}

/// The API root, e.g. `https://acme.nomic.ai/api/v0`.
///
/// Accepts the root with or without a trailing slash, or a bare origin (then `/api/v0` is
/// appended). Refuses other schemes, user information, queries and fragments.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiBase {
    https: bool,
    host: String,
    port: Option<u16>,
    origin: String,
    root: String,
    /// `host[:port]`, parsed once (cloning it is a reference-count bump).
    authority: http::uri::Authority,
    /// The root's path, e.g. `/api/v0`.
    path: String,
}

const API_PATH: &str = "/api/v0";

impl ApiBase {
    /// Parses and normalises a base URL (scheme and host lower-cased, trailing slash dropped).
    pub fn parse(input: &str) -> Result<ApiBase, InvalidBaseUrl> {
        let s = input.trim();
        if s.is_empty() {
            return Err(InvalidBaseUrl::Empty);
        }
        let (scheme, rest) = s.split_once("://").ok_or(InvalidBaseUrl::MissingScheme)?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return Err(InvalidBaseUrl::UnsupportedScheme),
        };
        if rest.contains('#') {
            return Err(InvalidBaseUrl::Fragment);
        }
        if rest.contains('?') {
            return Err(InvalidBaseUrl::Query);
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(InvalidBaseUrl::Userinfo);
        }
        let (host, port) = split_host_port(authority)?;
        let path = path.trim_end_matches('/');
        let path = if path.is_empty() {
            API_PATH
        } else if path.ends_with(API_PATH)
            && !path.contains("//")
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b))
        {
            path
        } else {
            return Err(InvalidBaseUrl::UnexpectedPath);
        };
        let scheme = if https { "https" } else { "http" };
        let origin = match port {
            Some(p) => format!("{scheme}://{host}:{p}"),
            None => format!("{scheme}://{host}"),
        };
        let root = format!("{origin}{path}");
        // Everything was checked above; this guards the builders' URI construction.
        let parsed = http::Uri::try_from(root.as_str()).map_err(|_| InvalidBaseUrl::InvalidHost)?;
        let authority = parsed
            .authority()
            .cloned()
            .ok_or(InvalidBaseUrl::InvalidHost)?;
        Ok(ApiBase {
            https,
            host,
            port,
            origin,
            path: path.to_owned(),
            root,
            authority,
        })
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }

    /// The host, lower-cased (IPv6 literals keep their brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The explicit port, if one was given.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// `scheme://host[:port]`, without a trailing slash.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The API root, e.g. `https://acme.nomic.ai/api/v0`.
    pub fn as_str(&self) -> &str {
        &self.root
    }

    /// True for `localhost`, `*.localhost`, `127.0.0.0/8` and `[::1]`: the only hosts where
    /// plain `http` is acceptable by default.
    pub fn is_loopback(&self) -> bool {
        let host = self.host.as_str();
        if host == "localhost" || host.ends_with(".localhost") {
            return true;
        }
        if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            return v6.parse::<Ipv6Addr>().is_ok_and(|a| a.is_loopback());
        }
        host.parse::<Ipv4Addr>().is_ok_and(|a| a.is_loopback())
    }

    /// The Platform UI deep link of an agent: `{origin}/assistant/{id}`.
    pub fn agent_url(&self, id: &AgentId) -> String {
        format!("{}/assistant/{id}", self.origin)
    }

    /// The full URI of a path (and query) relative to the root.
    pub(crate) fn uri(&self, path_and_query: &str) -> http::Uri {
        self.uri_of(&[path_and_query])
    }

    /// The full URI of the concatenated `pieces` relative to the root, built from the
    /// pre-parsed scheme and authority: one allocation, and only the path is parsed.
    pub(crate) fn uri_of(&self, pieces: &[&str]) -> http::Uri {
        let len = self.path.len() + pieces.iter().map(|p| p.len()).sum::<usize>();
        let mut path = String::with_capacity(len);
        path.push_str(&self.path);
        for piece in pieces {
            path.push_str(piece);
        }
        self.uri_with_path(path.into_bytes())
    }

    /// `{root}/agents/{id}{suffix}`: the id is written straight into the path buffer (this is
    /// the polling hot path).
    pub(crate) fn agent_uri(&self, id: &AgentId, suffix: &str) -> http::Uri {
        const AGENTS: &[u8] = b"/agents/";
        const ID_LEN: usize = uuid::fmt::Hyphenated::LENGTH;
        let mut path = Vec::with_capacity(self.path.len() + AGENTS.len() + ID_LEN + suffix.len());
        path.extend_from_slice(self.path.as_bytes());
        path.extend_from_slice(AGENTS);
        let at = path.len();
        path.resize(at + ID_LEN, 0);
        id.as_uuid().hyphenated().encode_lower(&mut path[at..]);
        path.extend_from_slice(suffix.as_bytes());
        self.uri_with_path(path)
    }

    fn uri_with_path(&self, path: Vec<u8>) -> http::Uri {
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(if self.https {
            http::uri::Scheme::HTTPS
        } else {
            http::uri::Scheme::HTTP
        });
        parts.authority = Some(self.authority.clone());
        // `parse` proved the root is a valid URI, and callers only append
        // percent-encoded ASCII, so this cannot fail.
        parts.path_and_query = Some(
            http::uri::PathAndQuery::from_maybe_shared(bytes::Bytes::from(path))
                .expect("root and encoded path form a valid path"),
        );
        http::Uri::from_parts(parts).expect("scheme, authority and path form a valid URI")
    }
}

fn split_host_port(authority: &str) -> Result<(String, Option<u16>), InvalidBaseUrl> {
    if authority.is_empty() {
        return Err(InvalidBaseUrl::MissingHost);
    }
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']').ok_or(InvalidBaseUrl::InvalidHost)?;
        let (host, after) = authority.split_at(end + 1);
        let inner = &host[1..host.len() - 1];
        if inner.parse::<Ipv6Addr>().is_err() {
            return Err(InvalidBaseUrl::InvalidHost);
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(InvalidBaseUrl::InvalidPort)?),
        };
        (host, port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(InvalidBaseUrl::MissingHost);
    }
    if !host.starts_with('[')
        && (host.starts_with('.')
            || host.starts_with('-')
            || host.contains("..")
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
    {
        return Err(InvalidBaseUrl::InvalidHost);
    }
    let port = match port {
        None => None,
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(InvalidBaseUrl::InvalidPort);
            }
            match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(InvalidBaseUrl::InvalidPort),
                Ok(n) => Some(n),
            }
        }
    };
    Ok((host.to_ascii_lowercase(), port))
}

impl fmt::Debug for ApiBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiBase({})", self.root)
    }
}

impl fmt::Display for ApiBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.root)
    }
}

impl std::str::FromStr for ApiBase {
    type Err = InvalidBaseUrl;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApiBase::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_root_and_origin_forms() {
        for input in [
            "https://acme.nomic.ai/api/v0",
            "https://acme.nomic.ai/api/v0/",
            "https://acme.nomic.ai",
            "https://acme.nomic.ai/",
            "HTTPS://ACME.nomic.ai/api/v0",
            "  https://acme.nomic.ai/api/v0\n",
        ] {
            let b = ApiBase::parse(input).unwrap();
            assert_eq!(b.as_str(), "https://acme.nomic.ai/api/v0", "{input}");
            assert_eq!(b.origin(), "https://acme.nomic.ai");
            assert_eq!(b.scheme(), "https");
            assert_eq!(b.host(), "acme.nomic.ai");
            assert_eq!(b.port(), None);
            assert!(!b.is_loopback());
        }
        let proxied = ApiBase::parse("https://gw.example/nomic/api/v0").unwrap();
        assert_eq!(proxied.as_str(), "https://gw.example/nomic/api/v0");
        assert_eq!(proxied.origin(), "https://gw.example");
    }

    #[test]
    fn ports_and_loopback() {
        let b = ApiBase::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(b.port(), Some(8080));
        assert_eq!(b.as_str(), "http://127.0.0.1:8080/api/v0");
        assert!(b.is_loopback());
        assert!(
            ApiBase::parse("http://[::1]:9/api/v0")
                .unwrap()
                .is_loopback()
        );
        assert!(ApiBase::parse("http://localhost").unwrap().is_loopback());
        assert!(
            ApiBase::parse("http://api.localhost")
                .unwrap()
                .is_loopback()
        );
        assert!(
            !ApiBase::parse("http://[2001:db8::1]")
                .unwrap()
                .is_loopback()
        );
        assert!(!ApiBase::parse("http://10.0.0.1").unwrap().is_loopback());
        assert!(
            !ApiBase::parse("http://localhost.evil.com")
                .unwrap()
                .is_loopback()
        );
    }

    #[test]
    fn rejects_bad_urls() {
        use InvalidBaseUrl as E;
        for (input, err) in [
            ("", E::Empty),
            ("acme.nomic.ai", E::MissingScheme),
            ("ftp://acme.nomic.ai", E::UnsupportedScheme),
            ("https://user:secret@acme.nomic.ai", E::Userinfo),
            ("https://acme.nomic.ai/api/v0?x=1", E::Query),
            ("https://acme.nomic.ai/api/v0#top", E::Fragment),
            ("https://", E::MissingHost),
            ("https://:443", E::MissingHost),
            ("https://acme nomic", E::InvalidHost),
            ("https://acme..ai", E::InvalidHost),
            ("https://[zz::1]", E::InvalidHost),
            ("https://acme.ai:0", E::InvalidPort),
            ("https://acme.ai:65536", E::InvalidPort),
            ("https://acme.ai:", E::InvalidPort),
            ("https://acme.ai:8a", E::InvalidPort),
            ("https://acme.ai/api/v1", E::UnexpectedPath),
            ("https://acme.ai/other", E::UnexpectedPath),
            ("https://acme.ai//api/v0", E::UnexpectedPath),
        ] {
            assert_eq!(ApiBase::parse(input), Err(err), "{input}");
        }
        let msg = ApiBase::parse("https://user:hunter2@x")
            .unwrap_err()
            .to_string();
        assert!(!msg.contains("hunter2"));
    }

    #[test]
    fn agent_deep_link() {
        let b = ApiBase::parse("https://acme.nomic.ai:8443/api/v0").unwrap();
        let id: AgentId = "019abc12-3456-7890-abcd-ef1234567890".parse().unwrap();
        assert_eq!(
            b.agent_url(&id),
            "https://acme.nomic.ai:8443/assistant/019abc12-3456-7890-abcd-ef1234567890"
        );
    }
}
