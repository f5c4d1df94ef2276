//! [`Transport`]: the assembled stack, cheap to clone.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;

use crate::base::BaseUrl;
use crate::body::Body;
use crate::config::TransportConfig;
use crate::connector::{ConnectorSettings, HyperService};
use crate::error::{BuildError, Error};
use crate::layers::auth::AuthLayer;
use crate::layers::deadline::DeadlineLayer;
use crate::layers::limit::LimitLayer;
use crate::layers::pacing::{PacingLayer, shared_limiter};
use crate::layers::retry::RetryLayer;
use crate::layers::timeout::TimeoutLayer;
use crate::layers::trace::TraceLayer;
use crate::meta::{BufferResponse, RequestMeta, ResponseBodyLimit};

type Stack = BoxCloneSyncService<Request<Body>, Response<Body>, Error>;

/// The HTTP transport: deadline → retry → pacing → per-attempt timeout → body limit →
/// tracing → auth and redirects → hyper-util's pooled client over rustls.
///
/// Cloning is cheap and clones share the connection pool, the pacing limiter, the retry budget
/// and the jitter source. Any HTTP response that is final after retries, 4xx and 5xx included,
/// comes back as `Ok`; `Err` means there was no response.
#[derive(Clone)]
pub struct Transport {
    stack: Stack,
    json_body_limit: u64,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("json_body_limit", &self.json_body_limit)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Builds the transport over hyper-util and rustls (TLS verification always on).
    ///
    /// Needs a Tokio runtime only when requests are sent.
    pub fn new(cfg: TransportConfig) -> Result<Transport, BuildError> {
        let client = HyperService::new(ConnectorSettings {
            extra_roots_pem: &cfg.extra_roots_pem,
            connect_timeout: cfg.connect_timeout,
            pool_idle_timeout: cfg.pool_idle_timeout,
        })?;
        Transport::with_service(cfg, client)
    }

    /// Runs a custom inner service (a test double, a proxy client) behind the same layers.
    ///
    /// The service sees fully resolved requests with `Authorization` set. It reports failures
    /// with [`Error::not_sent`] or [`Error::maybe_sent`] so the retry rules apply.
    pub fn with_service<S>(cfg: TransportConfig, service: S) -> Result<Transport, BuildError>
    where
        S: tower::Service<Request<Body>, Response = Response<Body>, Error = Error>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        let base = BaseUrl::parse(cfg.base.as_str(), cfg.allow_insecure_http)?;
        let user_agent = HeaderValue::try_from(cfg.user_agent.as_str())
            .map_err(|_| BuildError::InvalidUserAgent)?;
        let limiter = shared_limiter(&base.origin(), cfg.api_key.fingerprint(), cfg.tier_limits);
        let seed = cfg.seed.unwrap_or_else(random_seed);
        let stack = tower::ServiceBuilder::new()
            .layer(DeadlineLayer::new(cfg.deadline))
            .layer(RetryLayer::new(
                cfg.retry.clone(),
                cfg.retry_budget.clone(),
                seed,
                cfg.error_body_limit,
                cfg.wall_clock.clone(),
            ))
            .layer(PacingLayer::new(
                limiter,
                cfg.wall_clock.clone(),
                cfg.retry.retry_after.clone(),
            ))
            .layer(TimeoutLayer::new(cfg.attempt_timeout))
            .layer(LimitLayer)
            .layer(TraceLayer)
            .layer(AuthLayer::new(
                cfg.api_key.clone(),
                base,
                user_agent,
                cfg.redirect,
            ))
            .service(service);
        Ok(Transport {
            stack: BoxCloneSyncService::new(stack),
            json_body_limit: cfg.json_body_limit,
        })
    }

    /// Sends a request; the response body streams (unbounded unless the request carries a
    /// [`ResponseBodyLimit`]).
    pub async fn send(&self, req: Request<Body>) -> Result<Response<Body>, Error> {
        self.clone().oneshot(req).await
    }

    /// Sends an in-memory request and reads the whole response, refusing bodies over the JSON
    /// limit (or the request's own [`ResponseBodyLimit`]). The deadline covers the body too.
    pub async fn send_buffered(&self, req: Request<Bytes>) -> Result<Response<Bytes>, Error> {
        let mut req = req.map(Body::from);
        if req.extensions().get::<ResponseBodyLimit>().is_none() {
            req.extensions_mut()
                .insert(ResponseBodyLimit(self.json_body_limit));
        }
        // The retry layer reads the body inside its loop, so a truncated body is retried
        // (reads) or reported outcome-unknown (launch, follow-up, upload) like any other
        // maybe-sent failure; what comes back here is already in memory.
        req.extensions_mut().insert(BufferResponse);
        // The body is already in memory (the deadline layer leaves it unwrapped), so this
        // takes the bytes out without a second collection.
        let resp = self.send(req).await?;
        let (parts, body) = resp.into_parts();
        let bytes = body.bytes().await?;
        Ok(Response::from_parts(parts, bytes))
    }
}

/// A seed from the process's random hasher keys: no extra RNG crate for one number.
fn random_seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(0u8)
}

/// The future of [`Transport`]'s `tower::Service::call`.
pub struct ResponseFuture {
    inner: Pin<Box<dyn Future<Output = Result<Response<Body>, Error>> + Send>>,
    /// The request span; disabled (and never entered) when DEBUG is off for this target.
    span: tracing::Span,
}

impl std::fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseFuture")
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<Body>, Error>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let traced = !this.span.is_disabled();
        let _enter = traced.then(|| this.span.enter());
        let Poll::Ready(r) = this.inner.as_mut().poll(cx) else {
            return Poll::Pending;
        };
        match &r {
            Ok(resp) => {
                if traced {
                    this.span.record("status", resp.status().as_u16());
                }
            }
            Err(e) => tracing::debug!(error = %e, "request failed"),
        }
        Poll::Ready(r)
    }
}

impl tower::Service<Request<Body>> for Transport {
    type Response = Response<Body>;
    type Error = Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.stack.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> ResponseFuture {
        let meta = RequestMeta::of(&req);
        // One span per request; the attempt spans nest inside it. No header is ever recorded.
        // The fields are only evaluated (and the id only formatted) when the span is enabled.
        let span = tracing::debug_span!(
            "nomic_agent.request",
            method = %req.method(),
            route = %meta.route,
            tier = %meta.tier.as_str(),
            agent_id = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        if !span.is_disabled()
            && let Some(id) = &meta.agent_id
        {
            span.record("agent_id", tracing::field::display(id));
        }
        req.extensions_mut().insert(meta);
        // No extra box: the request span is entered around each poll of the stack's future.
        let inner = self.stack.call(req);
        ResponseFuture { inner, span }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shareable<T: Clone + Send + Sync + 'static>() {}
    fn sendable<T: Send + 'static>() {}

    #[test]
    fn public_types_cross_threads() {
        shareable::<Transport>();
        shareable::<TransportConfig>();
        sendable::<Error>();
        sendable::<Body>();
        sendable::<ResponseFuture>();
    }
}
