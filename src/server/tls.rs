//! go-plugin's AutoMTLS (hashicorp/go-plugin server.go): Terraform passes its client
//! certificate in `PLUGIN_CLIENT_CERT`; we answer with a fresh self-signed certificate of our
//! own, announced in the handshake line, and accept only connections that present Terraform's
//! certificate and prove they hold its key (RequireAndVerifyClientCert, TLS 1.2 or newer).
//!
//! Terraform's certificate is a self-signed CA certificate with an ECDSA P-521 key
//! (go-plugin mtls.go). Path validation would refuse a CA certificate as a client's own
//! (webpki's CaUsedAsEndEntity), and ring cannot verify P-521, so the verifier here accepts
//! exactly that certificate and checks P-521 handshake signatures with the `p521` crate.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{
    alg_id, AlgorithmIdentifier, CertificateDer, InvalidSignature, PrivateKeyDer,
    PrivatePkcs8KeyDer, SignatureVerificationAlgorithm, UnixTime,
};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;

/// A client that connects and then says nothing does not hold a connection slot for long.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub struct AutoMtls {
    certificate_der: Vec<u8>,
    acceptor: TlsAcceptor,
}

impl AutoMtls {
    /// None when the client asked for plaintext (no `PLUGIN_CLIENT_CERT`), as go-plugin allows
    /// for debugging with `TF_REATTACH_PROVIDERS`.
    pub fn from_env() -> anyhow::Result<Option<AutoMtls>> {
        match std::env::var("PLUGIN_CLIENT_CERT") {
            Ok(pem) if !pem.trim().is_empty() => Self::new(&pem).map(Some),
            _ => Ok(None),
        }
    }

    fn new(client_certificate_pem: &str) -> anyhow::Result<AutoMtls> {
        let client = rustls_pemfile::certs(&mut client_certificate_pem.as_bytes())
            .next()
            .ok_or_else(|| anyhow::anyhow!("PLUGIN_CLIENT_CERT holds no PEM certificate"))??;
        let (certificate, key) = own_certificate()?;
        let certificate_der = certificate.der().to_vec();

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = OnlyCertificate {
            expected: client.into_owned(),
            provider: provider.clone(),
        };
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_client_cert_verifier(Arc::new(verifier))
            .with_single_cert(
                vec![CertificateDer::from(certificate_der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )?;
        // gRPC clients insist on negotiating HTTP/2.
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(AutoMtls {
            certificate_der,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// The connections on `listener` that complete the handshake. One that fails it (another
    /// client certificate, none, or no TLS at all) is logged and closed; the server serves on.
    pub fn incoming(
        &self,
        listener: TcpListener,
    ) -> ReceiverStream<std::io::Result<TlsStream<TcpStream>>> {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let acceptor = self.acceptor.clone();
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(connection) => connection,
                    Err(err) => {
                        tracing::warn!("accepting a connection: {err}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    return;
                }
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send(Ok(tls)).await;
                        }
                        Ok(Err(err)) => tracing::warn!("TLS handshake with {peer} failed: {err}"),
                        Err(_) => tracing::warn!("TLS handshake with {peer} timed out"),
                    }
                });
            }
        });
        ReceiverStream::new(rx)
    }
}

/// go-plugin's generateCert shape: a CA certificate for "localhost", usable by client and
/// server; P-256, which every TLS stack verifies.
fn own_certificate() -> Result<(rcgen::Certificate, rcgen::KeyPair), rcgen::Error> {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "HashiCorp");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyAgreement,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let certificate = params.self_signed(&key)?;
    Ok((certificate, key))
}

/// Accepts one client certificate, byte for byte, and verifies the handshake signature made
/// with its key.
#[derive(Debug)]
struct OnlyCertificate {
    expected: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

#[derive(Debug)]
struct EcdsaP521Sha512;

impl SignatureVerificationAlgorithm for EcdsaP521Sha512 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use p521::ecdsa::signature::Verifier;
        let key =
            p521::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
        let signature =
            p521::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
        key.verify(message, &signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P521
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA512
    }
}

static P521: &[&dyn SignatureVerificationAlgorithm] = &[&EcdsaP521Sha512];
static P521_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: P521,
    mapping: &[(SignatureScheme::ECDSA_NISTP521_SHA512, P521)],
};

impl OnlyCertificate {
    fn algorithms(&self, scheme: SignatureScheme) -> &WebPkiSupportedAlgorithms {
        if scheme == SignatureScheme::ECDSA_NISTP521_SHA512 {
            &P521_ALGORITHMS
        } else {
            &self.provider.signature_verification_algorithms
        }
    }
}

impl ClientCertVerifier for OnlyCertificate {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // No hint: clients then offer their certificate whoever issued it.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            tracing::warn!("refused a TLS client: its certificate is not the one Terraform gave");
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, self.algorithms(dss.scheme))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, self.algorithms(dss.scheme))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        let mut schemes = self
            .provider
            .signature_verification_algorithms
            .supported_schemes();
        schemes.push(SignatureScheme::ECDSA_NISTP521_SHA512);
        schemes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p521_signatures_verify_and_forgeries_do_not() {
        use p521::ecdsa::signature::Signer;
        let mut secret = [0u8; 66];
        secret[65] = 7;
        let key = p521::ecdsa::SigningKey::from_slice(&secret).unwrap();
        let public = p521::ecdsa::VerifyingKey::from(&key);
        let point = public.to_encoded_point(false);
        let signature: p521::ecdsa::Signature = key.sign(b"handshake");
        let der = signature.to_der();
        let alg = EcdsaP521Sha512;
        assert!(alg
            .verify_signature(point.as_bytes(), b"handshake", der.as_bytes())
            .is_ok());
        assert!(alg
            .verify_signature(point.as_bytes(), b"handshakE", der.as_bytes())
            .is_err());
    }

    #[test]
    fn only_the_given_certificate_is_accepted() {
        let (given, _) = own_certificate().unwrap();
        let (other, _) = own_certificate().unwrap();
        let verifier = OnlyCertificate {
            expected: given.der().clone(),
            provider: Arc::new(rustls::crypto::ring::default_provider()),
        };
        let now = UnixTime::now();
        assert!(verifier.verify_client_cert(given.der(), &[], now).is_ok());
        assert!(verifier.verify_client_cert(other.der(), &[], now).is_err());
        assert!(verifier.client_auth_mandatory());
        assert!(verifier
            .supported_verify_schemes()
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }
}
