//! Small local servers on 127.0.0.1: plain HTTP, TLS with an rcgen root, and misbehaving ones.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use nomic_agent_transport::Body;
use rustls_pki_types::PrivateKeyDer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub type Handler = Arc<
    dyn Fn(Request<Incoming>) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> + Send + Sync,
>;

/// Wraps an async closure as a handler.
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    Arc::new(move |req| Box::pin(f(req)))
}

/// A running server: its address and how many TCP connections it accepted.
pub struct Server {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
    /// The root certificate to trust, for TLS servers.
    pub root_pem: Option<String>,
}

impl Server {
    pub fn http_base(&self) -> String {
        format!("http://{}/api/v0", self.addr)
    }
    pub fn https_base(&self) -> String {
        format!("https://{}/api/v0", self.addr)
    }
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn serve_conn<I>(io: I, h: Handler)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| {
        let h = h.clone();
        async move { Ok::<_, std::convert::Infallible>(h(req).await) }
    });
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(io), svc)
        .await;
}

/// Plain HTTP/1.1 (and h2c prior knowledge) server.
pub async fn http(h: Handler) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve_conn(stream, h.clone()));
        }
    });
    Server {
        addr,
        connections,
        root_pem: None,
    }
}

/// TLS server with a fresh self-signed certificate for 127.0.0.1, offering h2 and http/1.1.
pub async fn https(h: Handler) -> Server {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let key = PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![ck.cert.der().clone()], key)
    .unwrap();
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let h = h.clone();
            tokio::spawn(async move {
                // A client that rejects our certificate aborts the handshake: nothing to serve.
                if let Ok(tls) = acceptor.accept(stream).await {
                    serve_conn(tls, h).await;
                }
            });
        }
    });
    Server {
        addr,
        connections,
        root_pem: Some(ck.cert.pem()),
    }
}

/// Accepts connections, reads the request and never answers.
pub async fn silent() -> Server {
    raw(|mut stream| async move {
        let mut buf = [0u8; 1024];
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await
}

/// Reads the request head, then writes `head` and drips `body_len` bytes, one per `every`.
pub async fn drip(head: &'static str, body_len: usize, every: Duration) -> Server {
    raw(move |mut stream| async move {
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf).await;
        for chunk in head
            .as_bytes()
            .chunks(if body_len == 0 { 1 } else { head.len() })
        {
            if stream.write_all(chunk).await.is_err() {
                return;
            }
            if body_len == 0 {
                tokio::time::sleep(every).await;
            }
        }
        for _ in 0..body_len {
            if stream.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(every).await;
        }
    })
    .await
}

async fn raw<F, Fut>(f: F) -> Server
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(f(stream));
        }
    });
    Server {
        addr,
        connections,
        root_pem: None,
    }
}
