//! Copying a built request, extensions included.

use bytes::Bytes;
use http::Request;

/// A copy of `req`: method, URI, version, headers, body (a cheap `Bytes` clone) and
/// extensions. `http::Request` is not `Clone`; a copy that dropped the extensions would lose
/// the [`Endpoint`](super::Endpoint), and the transport would pace and retry it as a custom call.
pub fn duplicate(req: &Request<Bytes>) -> Request<Bytes> {
    let mut out = Request::new(req.body().clone());
    *out.method_mut() = req.method().clone();
    *out.uri_mut() = req.uri().clone();
    *out.version_mut() = req.version();
    *out.headers_mut() = req.headers().clone();
    *out.extensions_mut() = req.extensions().clone();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{ApiBase, Endpoint, launch};
    use crate::wire::LaunchRequest;

    #[test]
    fn a_copy_keeps_the_endpoint_and_everything_else() {
        let base = ApiBase::parse("https://acme.nomic.ai").unwrap();
        let req = launch(&base, &LaunchRequest::prompt("hello")).unwrap();
        let copy = duplicate(&req);
        assert_eq!(copy.method(), req.method());
        assert_eq!(copy.uri(), req.uri());
        assert_eq!(copy.headers(), req.headers());
        assert_eq!(copy.body(), req.body());
        assert_eq!(
            copy.extensions().get::<Endpoint>(),
            Some(&Endpoint::LaunchAgent)
        );
    }
}
