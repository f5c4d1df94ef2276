use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderValue, Request, Response, header};
use tower::ServiceExt;

use super::policy::{MAX_HOPS, RedirectMode, next_hop};
use crate::base::BaseUrl;
use crate::body::Body;
use crate::error::Error;
use crate::layers::BoxFuture;
use crate::secret::ApiKey;

/// Resolves the URI against the base, adds `Authorization` (sensitive) and `User-Agent`, and
/// handles 3xx per [`RedirectMode`].
#[derive(Clone, Debug)]
pub(crate) struct AuthLayer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    key: ApiKey,
    base: BaseUrl,
    user_agent: HeaderValue,
    redirect: RedirectMode,
}

impl AuthLayer {
    pub(crate) fn new(
        key: ApiKey,
        base: BaseUrl,
        user_agent: HeaderValue,
        redirect: RedirectMode,
    ) -> AuthLayer {
        AuthLayer {
            shared: Arc::new(Shared {
                key,
                base,
                user_agent,
                redirect,
            }),
        }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;
    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct AuthService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> tower::Service<Request<Body>> for AuthService<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Error>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = AuthFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        if let Err(e) = self.shared.base.resolve_in_place(req.uri_mut()) {
            return AuthFuture::Failed { error: Some(e) };
        }
        let headers = req.headers_mut();
        // Built (and marked sensitive) once in `ApiKey::new`; a clone shares the bytes.
        headers.insert(header::AUTHORIZATION, self.shared.key.authorization());
        if !headers.contains_key(header::USER_AGENT) {
            headers.insert(header::USER_AGENT, self.shared.user_agent.clone());
        }
        if self.shared.redirect == RedirectMode::Refuse {
            // No redirect to follow: the ready inner service's future, any 3xx refused.
            return AuthFuture::Direct {
                inner: self.inner.call(req),
            };
        }
        let shared = self.shared.clone();
        // Drive the ready clone for the first hop; later hops use fresh clones.
        let clone = self.inner.clone();
        let mut first = std::mem::replace(&mut self.inner, clone);
        AuthFuture::Follow {
            fut: Box::pin(async move {
                let mut hops = 0;
                loop {
                    let replay = snapshot(&req);
                    let (uri, method) = (req.uri().clone(), req.method().clone());
                    let resp = first.call(req).await?;
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
                        next_hop(&shared.base, &uri, &method, status, location.as_deref())
                            .filter(|_| hops <= MAX_HOPS)
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
                    first = first.clone();
                    first.ready().await?;
                }
            }),
        }
    }
}

/// A 3xx other than 304: followed or refused, never returned as a response.
fn is_redirect(status: http::StatusCode) -> bool {
    status.is_redirection() && status != http::StatusCode::NOT_MODIFIED
}

fn location(resp: &Response<Body>) -> Option<String> {
    resp.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pin_project_lite::pin_project! {
    /// The auth layer's future: a refused URI, one hop with 3xx refused (the default, no
    /// box), or the boxed redirect-following loop.
    #[project = AuthProj]
    pub(crate) enum AuthFuture<F> {
        Failed { error: Option<Error> },
        Direct { #[pin] inner: F },
        Follow { fut: BoxFuture },
    }
}

impl<F> Future for AuthFuture<F>
where
    F: Future<Output = Result<Response<Body>, Error>>,
{
    type Output = Result<Response<Body>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            AuthProj::Failed { error } => Poll::Ready(Err(error
                .take()
                .unwrap_or_else(|| Error::invalid_request("polled after completion")))),
            AuthProj::Direct { inner } => inner.poll(cx).map(|r| {
                let resp = r?;
                let status = resp.status();
                if is_redirect(status) {
                    return Err(Error::redirect(status, location(&resp)));
                }
                Ok(resp)
            }),
            AuthProj::Follow { fut } => fut.as_mut().poll(cx),
        }
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
