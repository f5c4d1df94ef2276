//! The bottom of the stack: hyper-util's pooled client over hyper-rustls.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::body::Body;
use crate::error::{self, BuildError, Error};

/// TLS and pool settings for [`HyperService::new`].
pub(crate) struct ConnectorSettings<'a> {
    pub extra_roots_pem: &'a [Vec<u8>],
    pub connect_timeout: Duration,
    pub pool_idle_timeout: Duration,
}

/// The crypto provider: ring unless the `aws-lc-rs` feature selects aws-lc-rs.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    #[cfg(feature = "aws-lc-rs")]
    {
        Arc::new(rustls::crypto::aws_lc_rs::default_provider())
    }
    #[cfg(not(feature = "aws-lc-rs"))]
    {
        Arc::new(rustls::crypto::ring::default_provider())
    }
}

/// webpki roots, plus native roots with the feature, plus every certificate in the extra PEMs.
fn roots(extra_pem: &[Vec<u8>]) -> Result<RootCertStore, BuildError> {
    let mut store = RootCertStore::empty();
    store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    #[cfg(feature = "native-roots")]
    {
        let found = rustls_native_certs::load_native_certs();
        if found.certs.is_empty()
            && let Some(e) = found.errors.first()
        {
            return Err(BuildError::NativeRoots(e.to_string()));
        }
        // Unparsable system certificates are skipped, as browsers do.
        let _ = store.add_parsable_certificates(found.certs);
    }
    for pem in extra_pem {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<_, _>>()
            .map_err(|e| BuildError::InvalidRoots(e.to_string()))?;
        if certs.is_empty() {
            return Err(BuildError::InvalidRoots(
                "a PEM root holds no CERTIFICATE block".into(),
            ));
        }
        for cert in certs {
            store
                .add(cert)
                .map_err(|e| BuildError::InvalidRoots(e.to_string()))?;
        }
    }
    Ok(store)
}

type Inner = Client<HttpsConnector<HttpConnector>, Body>;

/// The pooled hyper-util client: TLS verification always on, HTTP/1.1 and
/// HTTP/2 chosen by ALPN.
#[derive(Clone, Debug)]
pub(crate) struct HyperService {
    client: Inner,
}

impl HyperService {
    pub(crate) fn new(s: ConnectorSettings<'_>) -> Result<HyperService, BuildError> {
        let tls = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| BuildError::Tls(e.to_string()))?
            .with_root_certificates(roots(s.extra_roots_pem)?)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        // Schemes are checked against the base URL before a request gets here.
        http.enforce_http(false);
        http.set_connect_timeout(Some(s.connect_timeout));
        http.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(s.pool_idle_timeout)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(https);
        Ok(HyperService { client })
    }
}

impl HyperService {
    /// Sends through the pool. By reference: nothing of the client is cloned here (hyper-util
    /// clones what its future needs).
    pub(crate) fn request(&self, req: Request<Body>) -> HyperFuture {
        HyperFuture {
            inner: self.client.request(req),
        }
    }
}

/// hyper-util's response future with our body and error types (no extra box).
pub(crate) struct HyperFuture {
    inner: hyper_util::client::legacy::ResponseFuture,
}

impl Future for HyperFuture {
    type Output = Result<Response<Body>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner).poll(cx).map(|r| match r {
            Ok(resp) => Ok(resp.map(Body::from_incoming)),
            Err(e) => Err(error::from_client(e)),
        })
    }
}
