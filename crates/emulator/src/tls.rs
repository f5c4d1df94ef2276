//! TLS: a throw-away CA made at start, a leaf certificate it signs, and a rustls acceptor
//! offering HTTP/2 and HTTP/1.1 by ALPN.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::ServerConfig;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use crate::EmulatorError;
use crate::config::TlsConfig;

/// The acceptor and the CA certificate clients should trust.
pub struct TlsMaterial {
    /// Acceptor for incoming connections.
    pub acceptor: TlsAcceptor,
    /// The CA certificate, PEM.
    pub ca_pem: String,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial").finish_non_exhaustive()
    }
}

fn tls_err(e: impl std::fmt::Display) -> EmulatorError {
    EmulatorError::Tls(e.to_string())
}

/// Generates the certificates, writes the CA PEM where asked, and builds the acceptor.
pub fn build(cfg: &TlsConfig) -> Result<TlsMaterial, EmulatorError> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "nomic-agent-emulator local CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(tls_err)?)
        .map_err(tls_err)?;

    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    names.extend(cfg.subject_alt_names.iter().cloned());
    let leaf_key = KeyPair::generate().map_err(tls_err)?;
    let leaf = CertificateParams::new(names)
        .map_err(tls_err)?
        .signed_by(&leaf_key, &ca)
        .map_err(tls_err)?;

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], key)
        .map_err(tls_err)?;
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];

    let ca_pem = ca.pem();
    if let Some(path) = &cfg.cert_out {
        std::fs::write(path, &ca_pem)
            .map_err(|e| EmulatorError::Tls(format!("writing {}: {e}", path.display())))?;
    }
    Ok(TlsMaterial {
        acceptor: TlsAcceptor::from(Arc::new(server)),
        ca_pem,
    })
}
