//! What sends one fully resolved request: the pool, or a custom `tower::Service`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower::util::{BoxCloneSyncService, Oneshot};

use crate::body::Body;
use crate::connector::{HyperFuture, HyperService};
use crate::error::Error;

type Custom = BoxCloneSyncService<Request<Body>, Response<Body>, Error>;

/// What sends one fully resolved request: hyper-util's pooled client (called by reference,
/// nothing cloned per request) or a custom `tower::Service` (cloned per call, as tower wants).
// Held once per transport, behind its `Arc`: the size of the pool variant costs nothing, and
// boxing it would add a pointer chase to every request.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Lower {
    Hyper(HyperService),
    Custom(Custom),
}

impl std::fmt::Debug for Lower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Lower::Hyper(_) => "Lower::Hyper",
            Lower::Custom(_) => "Lower::Custom",
        })
    }
}

impl Lower {
    pub(crate) fn call(&self, req: Request<Body>) -> LowerFuture {
        match self {
            Lower::Hyper(h) => LowerFuture::Hyper {
                inner: h.request(req),
            },
            Lower::Custom(s) => LowerFuture::Custom {
                inner: Box::pin(tower::ServiceExt::oneshot(s.clone(), req)),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// [`Lower::call`]'s future: the pool's own, unwrapped.
    #[project = LowerProj]
    pub(crate) enum LowerFuture {
        Hyper { #[pin] inner: HyperFuture },
        // Boxed: custom services are test doubles and proxies; the pool's variant stays small.
        Custom { inner: Pin<Box<Oneshot<Custom, Request<Body>>>> },
    }
}

impl Future for LowerFuture {
    type Output = Result<Response<Body>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            LowerProj::Hyper { inner } => inner.poll(cx),
            LowerProj::Custom { inner } => inner.as_mut().poll(cx),
        }
    }
}
