use http::{Method, StatusCode, Uri};

use crate::base::BaseUrl;

/// What to do with a 3xx response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectMode {
    /// Never follow: the request fails with an error naming the status and the `Location`
    /// (see `Error::is_redirect`). The default: the API does not redirect.
    #[default]
    Refuse,
    /// Follow redirects within the base URL's origin (same scheme, host and port), headers
    /// intact; a redirect anywhere else fails as in `Refuse`, so credentials never leave the
    /// origin. At most five hops.
    FollowSameOrigin,
}

/// Redirect hops followed per attempt before giving up.
pub(super) const MAX_HOPS: u32 = 5;

/// Where a followed redirect goes and with which method; `None` means refuse.
pub(super) fn next_hop(
    base: &BaseUrl,
    current: &Uri,
    method: &Method,
    status: StatusCode,
    location: Option<&str>,
) -> Option<(Uri, Method)> {
    let location = location?;
    let target = resolve_location(current, location)?;
    if !base.same_origin(&target) {
        return None;
    }
    let method = match status {
        StatusCode::SEE_OTHER => Method::GET,
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT => method.clone(),
        // 301/302 rewrite a POST to GET in browsers; an API call should not guess: only reads.
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND
            if matches!(*method, Method::GET | Method::HEAD) =>
        {
            method.clone()
        }
        _ => return None,
    };
    Some((target, method))
}

/// An absolute `Location`, or an absolute path resolved against the current URI.
fn resolve_location(current: &Uri, location: &str) -> Option<Uri> {
    if location.starts_with('/') && !location.starts_with("//") {
        return Uri::builder()
            .scheme(current.scheme()?.clone())
            .authority(current.authority()?.clone())
            .path_and_query(location)
            .build()
            .ok();
    }
    let uri: Uri = location.parse().ok()?;
    (uri.scheme().is_some() && uri.authority().is_some()).then_some(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> BaseUrl {
        BaseUrl::parse("https://a.example/api/v0", false).unwrap()
    }

    #[test]
    fn follows_only_same_origin() {
        let cur: Uri = "https://a.example/api/v0/agents".parse().unwrap();
        let hop = |status, loc| next_hop(&base(), &cur, &Method::GET, status, loc);
        let (uri, m) = hop(StatusCode::FOUND, Some("/api/v0/x")).unwrap();
        assert_eq!(uri, "https://a.example/api/v0/x");
        assert_eq!(m, Method::GET);
        assert!(hop(StatusCode::FOUND, Some("https://b.example/api/v0/x")).is_none());
        assert!(hop(StatusCode::FOUND, Some("http://a.example/api/v0/x")).is_none());
        assert!(hop(StatusCode::FOUND, Some("https://a.example:444/x")).is_none());
        assert!(hop(StatusCode::FOUND, Some("//b.example/x")).is_none());
        assert!(hop(StatusCode::FOUND, None).is_none());
    }

    #[test]
    fn methods_per_status() {
        let cur: Uri = "https://a.example/api/v0/agents".parse().unwrap();
        let post = |status| next_hop(&base(), &cur, &Method::POST, status, Some("/y"));
        assert_eq!(post(StatusCode::SEE_OTHER).unwrap().1, Method::GET);
        assert_eq!(
            post(StatusCode::TEMPORARY_REDIRECT).unwrap().1,
            Method::POST
        );
        assert_eq!(
            post(StatusCode::PERMANENT_REDIRECT).unwrap().1,
            Method::POST
        );
        assert!(post(StatusCode::FOUND).is_none());
        assert!(post(StatusCode::MOVED_PERMANENTLY).is_none());
    }
}
