//! TLS: a client trusting the written PEM connects over HTTP/1.1 and HTTP/2 (ALPN).

mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::KEY;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use nomic_agent_emulator::{Emulator, EmulatorConfig, TlsConfig};
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio_rustls::TlsConnector;

fn connector(pem: &[u8], alpn: &[&[u8]]) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(cfg))
}

fn get(path: &str) -> http::Request<Empty<Bytes>> {
    http::Request::get(path)
        .header("authorization", format!("Bearer {KEY}"))
        .body(Empty::new())
        .unwrap()
}

#[tokio::test]
async fn tls_with_alpn_h2_and_http1() {
    let dir = tempfile::tempdir().unwrap();
    let pem_path = dir.path().join("ca.pem");
    let cfg = EmulatorConfig {
        tls: Some(TlsConfig {
            cert_out: Some(pem_path.clone()),
            subject_alt_names: vec![],
        }),
        ..EmulatorConfig::default()
    };
    let emu = Emulator::start(cfg).await.unwrap();
    assert!(emu.base_url().starts_with("https://localhost:"));
    let pem = std::fs::read(&pem_path).unwrap();
    assert_eq!(emu.ca_pem().unwrap().as_bytes(), pem.as_slice());
    let name = ServerName::try_from("localhost").unwrap();

    // HTTP/2 negotiated by ALPN.
    let tcp = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    let tls = connector(&pem, &[b"h2", b"http/1.1"])
        .connect(name.clone(), tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut h2, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(conn);
    let uri = format!("{}/workflows", emu.base_url());
    let resp = h2.send_request(get(&uri)).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    // Several concurrent streams on one connection.
    let mut futs = Vec::new();
    for _ in 0..8 {
        futs.push(h2.send_request(get(&uri)));
    }
    for f in futs {
        assert_eq!(f.await.unwrap().status(), 200);
    }

    // HTTP/1.1 by ALPN.
    let tcp = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    let tls = connector(&pem, &[b"http/1.1"])
        .connect(name.clone(), tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (mut h1, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = get("/api/v0/agents");
    req.headers_mut()
        .insert("host", "localhost".parse().unwrap());
    let resp = h1.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);

    // A client that does not trust the PEM is refused.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let tcp = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .unwrap();
    let res = connector(other.cert.pem().as_bytes(), &[b"h2"])
        .connect(name, tcp)
        .await;
    assert!(res.is_err());
    emu.shutdown().await;
}
