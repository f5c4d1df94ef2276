use http::{Request, Response, StatusCode, header};

use super::policy::{MAX_HOPS, next_hop};
use crate::base::BaseUrl;
use crate::body::Body;
use crate::error::Error;
use crate::lower::Lower;

/// A 3xx other than 304: followed or refused, never returned as a response.
fn is_redirect(status: StatusCode) -> bool {
    status.is_redirection() && status != StatusCode::NOT_MODIFIED
}

fn location(resp: &Response<Body>) -> Option<String> {
    resp.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// [`RedirectMode::Refuse`](super::RedirectMode::Refuse): a 3xx becomes an error naming the
/// status and the `Location`.
pub(crate) fn refuse_redirect(resp: Response<Body>) -> Result<Response<Body>, Error> {
    let status = resp.status();
    if is_redirect(status) {
        return Err(Error::redirect(status, location(&resp)));
    }
    Ok(resp)
}

/// [`RedirectMode::FollowSameOrigin`](super::RedirectMode::FollowSameOrigin): follows up to
/// `MAX_HOPS` redirects within the base's origin, headers intact.
pub(crate) async fn follow(
    lower: &Lower,
    base: &BaseUrl,
    mut req: Request<Body>,
) -> Result<Response<Body>, Error> {
    let mut hops = 0;
    loop {
        let replay = snapshot(&req);
        let (uri, method) = (req.uri().clone(), req.method().clone());
        let resp = lower.call(req).await?;
        let status = resp.status();
        if !is_redirect(status) {
            return Ok(resp);
        }
        let location = location(&resp);
        let refuse = || Error::redirect(status, location.clone());
        let Some(mut next) = replay else {
            return Err(refuse());
        };
        hops += 1;
        let Some((target, new_method)) =
            next_hop(base, &uri, &method, status, location.as_deref()).filter(|_| hops <= MAX_HOPS)
        else {
            return Err(refuse());
        };
        tracing::debug!(%status, hop = hops, "following same-origin redirect");
        if new_method != method {
            *next.body_mut() = Body::empty();
            next.headers_mut().remove(header::CONTENT_TYPE);
            next.headers_mut().remove(header::CONTENT_LENGTH);
        }
        *next.uri_mut() = target;
        *next.method_mut() = new_method;
        req = next;
    }
}

/// A copy of a request with a replayable body, for following a redirect.
fn snapshot(req: &Request<Body>) -> Option<Request<Body>> {
    let body = req.body().try_clone()?;
    let mut copy = Request::new(body);
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.version_mut() = req.version();
    *copy.headers_mut() = req.headers().clone();
    *copy.extensions_mut() = req.extensions().clone();
    Some(copy)
}
