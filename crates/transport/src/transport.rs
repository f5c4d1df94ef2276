//! [`Transport`]: the assembled pipeline, cheap to clone.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use tower::util::BoxCloneSyncService;

use crate::base::BaseUrl;
use crate::body::Body;
use crate::config::TransportConfig;
use crate::connector::{ConnectorSettings, HyperService};
use crate::dispatch::{Dispatcher, Take};
use crate::error::{BuildError, Error};
use crate::lower::Lower;
use crate::stages::auth::Credentials;
use crate::stages::pacing::{Pacer, shared_limiter};
use crate::stages::retry::Retrier;

/// The HTTP transport: deadline → retry → pacing → per-attempt timeout → body limit →
/// tracing → auth and redirects → hyper-util's pooled client over rustls.
///
/// Cloning is cheap and clones share the connection pool, the pacing limiter, the retry budget
/// and the jitter source. Any HTTP response that is final after retries, 4xx and 5xx included,
/// comes back as `Ok`; `Err` means there was no response.
#[derive(Clone)]
pub struct Transport {
    pub(crate) dispatcher: Arc<Dispatcher>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("json_body_limit", &self.dispatcher.json_body_limit)
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
        Transport::build(cfg, Lower::Hyper(client))
    }

    /// Runs a custom inner service (a test double, a proxy client) behind the same stages.
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
        Transport::build(cfg, Lower::Custom(BoxCloneSyncService::new(service)))
    }

    fn build(cfg: TransportConfig, lower: Lower) -> Result<Transport, BuildError> {
        let base = BaseUrl::parse(cfg.base.as_str(), cfg.allow_insecure_http)?;
        let user_agent = HeaderValue::try_from(cfg.user_agent.as_str())
            .map_err(|_| BuildError::InvalidUserAgent)?;
        let limiter = shared_limiter(&base.origin(), cfg.api_key.fingerprint(), cfg.tier_limits);
        let seed = cfg.seed.unwrap_or_else(random_seed);
        let pacer = Pacer::new(
            limiter,
            cfg.wall_clock.clone(),
            cfg.retry.retry_after.clone(),
        );
        let retrier = Retrier::new(cfg.retry, cfg.retry_budget, seed, cfg.error_body_limit);
        let credentials = Credentials::new(cfg.api_key, base, user_agent, cfg.redirect);
        Ok(Transport {
            dispatcher: Arc::new(Dispatcher {
                deadline: cfg.deadline,
                attempt_timeout: cfg.attempt_timeout,
                json_body_limit: cfg.json_body_limit,
                wall_clock: cfg.wall_clock,
                retrier,
                pacer,
                credentials,
                lower,
            }),
        })
    }

    /// Sends a request; the response body streams (unbounded unless the request carries a
    /// [`ResponseBodyLimit`](crate::ResponseBodyLimit)).
    pub async fn send(&self, req: Request<Body>) -> Result<Response<Body>, Error> {
        self.dispatcher.run(req, Take::Streamed).await
    }

    /// Sends an in-memory request and reads the whole response, refusing bodies over the JSON
    /// limit (or the request's own [`ResponseBodyLimit`](crate::ResponseBodyLimit)). The
    /// deadline covers the body too.
    pub async fn send_buffered(&self, req: Request<Bytes>) -> Result<Response<Bytes>, Error> {
        // The body is read inside the retry loop, so a truncated body is retried (reads) or
        // reported outcome-unknown (launch, follow-up, upload) like any other maybe-sent
        // failure; what comes back here is already in memory.
        let resp = self
            .dispatcher
            .run(req.map(Body::from), Take::Buffered)
            .await?;
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
}

impl std::fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseFuture")
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<Body>, Error>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl tower::Service<Request<Body>> for Transport {
    type Response = Response<Body>;
    type Error = Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        // Pacing waits inside the future, per attempt: there is no back-pressure to report.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> ResponseFuture {
        let dispatcher = self.dispatcher.clone();
        ResponseFuture {
            inner: Box::pin(async move { dispatcher.run(req, Take::Streamed).await }),
        }
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
