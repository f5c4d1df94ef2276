//! The base URL and its origin: where credentials may go.

use http::Uri;
use http::uri::{Authority, PathAndQuery, Scheme};

use crate::error::{BuildError, Error};

/// A parsed API base such as `https://acme.nomic.ai/api/v0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BaseUrl {
    scheme: Scheme,
    authority: Authority,
    host: String,
    port: u16,
    /// The path prefix without a trailing slash (`/api/v0`, or empty).
    prefix: String,
}

impl BaseUrl {
    pub(crate) fn parse(s: &str, allow_insecure_http: bool) -> Result<BaseUrl, BuildError> {
        let uri: Uri = s
            .parse()
            .map_err(|e: http::uri::InvalidUri| BuildError::InvalidBase(e.to_string()))?;
        let scheme = uri
            .scheme()
            .cloned()
            .ok_or_else(|| BuildError::InvalidBase("missing scheme".into()))?;
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| BuildError::InvalidBase("missing host".into()))?;
        if authority.as_str().contains('@') {
            return Err(BuildError::InvalidBase(
                "credentials in the URL are not allowed; use the API key".into(),
            ));
        }
        let port = match (scheme.as_str(), authority.port_u16()) {
            (_, Some(p)) => p,
            ("https", None) => 443,
            ("http", None) => 80,
            (other, None) => {
                return Err(BuildError::InvalidBase(format!(
                    "unsupported scheme {other}"
                )));
            }
        };
        if !matches!(scheme.as_str(), "https" | "http") {
            return Err(BuildError::InvalidBase(format!(
                "unsupported scheme {}",
                scheme.as_str()
            )));
        }
        if uri.query().is_some() {
            return Err(BuildError::InvalidBase("a base URL has no query".into()));
        }
        let host = authority.host().to_ascii_lowercase();
        let base = BaseUrl {
            scheme,
            authority,
            host,
            port,
            prefix: uri.path().trim_end_matches('/').to_owned(),
        };
        if base.scheme == Scheme::HTTP && !allow_insecure_http && !base.is_loopback() {
            return Err(BuildError::InsecureHttp { host: base.host });
        }
        Ok(base)
    }

    /// `localhost`, `127.0.0.0/8` or `::1`.
    pub(crate) fn is_loopback(&self) -> bool {
        let h = self.host.trim_start_matches('[').trim_end_matches(']');
        h == "localhost"
            || h.ends_with(".localhost")
            || h.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// `scheme://host:port`, with the default port spelled out, for keying shared state.
    pub(crate) fn origin(&self) -> String {
        format!("{}://{}:{}", self.scheme, self.host, self.port)
    }

    /// True when `uri` has the same scheme, host and port as the base.
    pub(crate) fn same_origin(&self, uri: &Uri) -> bool {
        let (Some(scheme), Some(auth)) = (uri.scheme(), uri.authority()) else {
            return false;
        };
        let port = auth.port_u16().unwrap_or(match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return false,
        });
        *scheme == self.scheme
            && auth.host().eq_ignore_ascii_case(&self.host)
            && port == self.port
            && !auth.as_str().contains('@')
    }

    /// [`BaseUrl::resolve`] in place: an absolute URI of the base's origin (what core builds)
    /// is left as it is, without a copy.
    pub(crate) fn resolve_in_place(&self, uri: &mut Uri) -> Result<(), Error> {
        if uri.scheme().is_some() && uri.authority().is_some() && self.same_origin(uri) {
            return Ok(());
        }
        *uri = self.resolve(uri)?;
        Ok(())
    }

    /// Makes a request URI absolute: a path-only URI is joined under the base prefix (unless it
    /// already starts with it); an absolute URI must be of the base's origin.
    pub(crate) fn resolve(&self, uri: &Uri) -> Result<Uri, Error> {
        if uri.scheme().is_some() || uri.authority().is_some() {
            return if self.same_origin(uri) {
                Ok(uri.clone())
            } else {
                Err(Error::invalid_request(
                    "the request URI is not of the base URL's origin; credentials stay home",
                ))
            };
        }
        let pq = uri.path_and_query().map_or("/", PathAndQuery::as_str);
        let joined = if self.prefix.is_empty()
            || pq == self.prefix
            || pq.starts_with(&format!("{}/", self.prefix))
            || pq.starts_with(&format!("{}?", self.prefix))
        {
            pq.to_owned()
        } else {
            format!("{}{}", self.prefix, pq)
        };
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(joined)
            .build()
            .map_err(|_| Error::invalid_request("the request URI cannot be joined to the base"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_on_loopback_or_opt_in() {
        assert!(BaseUrl::parse("http://127.0.0.1:8080/api/v0", false).is_ok());
        assert!(BaseUrl::parse("http://localhost/api/v0", false).is_ok());
        assert!(BaseUrl::parse("http://[::1]:9/api/v0", false).is_ok());
        assert!(matches!(
            BaseUrl::parse("http://acme.nomic.ai/api/v0", false),
            Err(BuildError::InsecureHttp { host }) if host == "acme.nomic.ai"
        ));
        assert!(BaseUrl::parse("http://acme.nomic.ai/api/v0", true).is_ok());
        assert!(BaseUrl::parse("ftp://acme.nomic.ai/", true).is_err());
        assert!(BaseUrl::parse("https://user:pw@acme.nomic.ai/", true).is_err());
        assert!(BaseUrl::parse("not a url", true).is_err());
    }

    #[test]
    fn resolves_paths_and_guards_origin() {
        let b = BaseUrl::parse("https://acme.nomic.ai/api/v0/", false).unwrap();
        assert_eq!(b.origin(), "https://acme.nomic.ai:443");
        let r = |s: &str| b.resolve(&s.parse().unwrap()).map(|u| u.to_string());
        assert_eq!(
            r("/agents?limit=2").unwrap(),
            "https://acme.nomic.ai/api/v0/agents?limit=2"
        );
        assert_eq!(
            r("/api/v0/agents").unwrap(),
            "https://acme.nomic.ai/api/v0/agents"
        );
        assert_eq!(
            r("https://ACME.nomic.ai:443/api/v0/agents").unwrap(),
            "https://ACME.nomic.ai:443/api/v0/agents"
        );
        assert!(
            r("https://evil.example/api/v0/agents")
                .unwrap_err()
                .is_invalid_request()
        );
        assert!(r("http://acme.nomic.ai/api/v0/agents").is_err());
        assert!(r("https://acme.nomic.ai:8443/api/v0/agents").is_err());
    }
}
