//! The go-plugin handshake as the provider binary performs it on its own: the magic cookie,
//! protocol negotiation, and AutoMTLS that admits only the client certificate it was given.
//! (Every other acceptance test goes through the handshake with real Terraform.)

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const COOKIE: (&str, &str) = (
    "TF_PLUGIN_MAGIC_COOKIE",
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
);

fn provider(env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_terraform-provider-tap"));
    command
        .env_remove(COOKIE.0)
        .env_remove("PLUGIN_CLIENT_CERT")
        .env_remove("PLUGIN_PROTOCOL_VERSIONS")
        .env_remove("PLUGIN_MIN_PORT")
        .env_remove("PLUGIN_MAX_PORT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

/// Runs the provider to its exit, which must come within 10 seconds: (code, stdout, stderr).
fn refused(env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut child = provider(env).spawn().expect("starting the provider");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the provider hung instead of refusing to start");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn without_the_magic_cookie_it_says_what_it_is_and_exits() {
    for env in [vec![], vec![(COOKIE.0, "not-the-cookie")]] {
        let (code, stdout, stderr) = refused(&env);
        assert_eq!(code, Some(1), "{stderr}");
        assert_eq!(
            stdout, "",
            "nothing on stdout, where go-plugin reads the handshake"
        );
        assert!(
            stderr.contains("plugin for Terraform and OpenTofu")
                && stderr.contains("terraform init"),
            "{stderr}"
        );
    }
}

#[test]
fn a_client_offering_only_protocol_5_is_refused() {
    let (code, stdout, stderr) = refused(&[COOKIE, ("PLUGIN_PROTOCOL_VERSIONS", "5")]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("speaks only version 6") && stderr.contains("\"5\""),
        "{stderr}"
    );
}

/// A certificate and its PKCS#8 key, as a client would hold them.
struct ClientIdentity {
    pem: String,
    der: CertificateDer<'static>,
    key: Vec<u8>,
}

fn client_identity() -> ClientIdentity {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity {
        pem: cert.pem(),
        der: cert.der().clone(),
        key: key.serialize_der(),
    }
}

/// Trusts exactly the certificate the handshake line announced, as go-plugin's client does.
#[derive(Debug)]
struct Announced(Vec<u8>);

fn ring_signatures() -> rustls::crypto::WebPkiSupportedAlgorithms {
    rustls::crypto::ring::default_provider().signature_verification_algorithms
}

impl ServerCertVerifier for Announced {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.0.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "not the announced certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &ring_signatures())
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &ring_signatures())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        ring_signatures().supported_schemes()
    }
}

/// Opens TLS with `identity` (or none), speaks the HTTP/2 preface and returns the server's
/// first bytes, or why the server would not talk.
async fn first_bytes(
    address: &str,
    server_der: &[u8],
    identity: Option<&ClientIdentity>,
) -> Result<Vec<u8>, String> {
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(Announced(server_der.to_vec())));
    let mut config = match identity {
        Some(id) => builder
            .with_client_auth_cert(
                vec![id.der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key.clone())),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let talk = async {
        let tcp = tokio::net::TcpStream::connect(address)
            .await
            .map_err(|e| e.to_string())?;
        let name = ServerName::try_from("localhost").unwrap();
        let mut tls = connector
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        // The HTTP/2 client preface and an empty SETTINGS frame.
        let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        hello.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
        tls.write_all(&hello).await.map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 64];
        match tls.read(&mut buf).await {
            Ok(0) => Err("closed".to_owned()),
            Ok(n) => Ok(buf[..n].to_vec()),
            Err(e) => Err(e.to_string()),
        }
    };
    tokio::time::timeout(Duration::from_secs(10), talk)
        .await
        .unwrap_or_else(|_| Err("no answer within 10 s".to_owned()))
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn only_the_client_certificate_terraform_gave_is_admitted() {
    let given = client_identity();
    let other = client_identity();
    let mut child = provider(&[
        COOKIE,
        ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
        ("PLUGIN_CLIENT_CERT", &given.pem),
    ])
    .stderr(Stdio::null())
    .spawn()
    .expect("starting the provider");
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(Duration::from_secs(30), line)
        .await
        .expect("handshake line within 30 s")
        .unwrap()
        .unwrap();
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(&fields[..3], ["1", "6", "tcp"], "{line}");
    assert_eq!(fields[4], "grpc");
    assert!(fields[3].starts_with("127.0.0.1:"), "{line}");
    assert!(!fields[5].ends_with('='), "base64 without padding: {line}");
    let server_der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(fields[5])
        .expect("certificate in base64");

    let admitted = first_bytes(fields[3], &server_der, Some(&given)).await;
    let frame = admitted.expect("the given certificate is admitted");
    assert_eq!(
        frame.get(3),
        Some(&4),
        "an HTTP/2 SETTINGS frame: {frame:?}"
    );

    let wrong = first_bytes(fields[3], &server_der, Some(&other)).await;
    assert!(
        wrong.is_err(),
        "another certificate was admitted: {wrong:?}"
    );
    let none = first_bytes(fields[3], &server_der, None).await;
    assert!(
        none.is_err(),
        "a client without certificate was admitted: {none:?}"
    );

    // Refusing them did not stop the server for Terraform.
    let mut running = running;
    assert!(
        running.0.try_wait().unwrap().is_none(),
        "the provider exited"
    );
    assert!(first_bytes(fields[3], &server_der, Some(&given))
        .await
        .is_ok());
}
