//! go-plugin's handshake as Terraform and OpenTofu speak it (hashicorp/go-plugin server.go):
//! the magic cookie, the protocol version, the port, and the line announcing them on stdout.

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use base64::Engine as _;

/// Terraform's `plugin.Handshake` (internal/plugin6/serve.go and go-plugin's client).
const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's own protocol, the first field of the handshake line.
const CORE_PROTOCOL_VERSION: u32 = 1;
/// The only plugin protocol this provider speaks.
const PROTOCOL_VERSION: u32 = 6;

/// Why the binary will not serve, in words for whoever ran it.
#[derive(Debug, thiserror::Error)]
pub enum NotStartedByTerraform {
    #[error(
        "This binary is a plugin for Terraform and OpenTofu (provider tap-trading/tap), not a command.\n\
         Terraform starts it itself: declare the provider in `required_providers` and run `terraform init` and `terraform plan`.\n\
         (TF_PLUGIN_MAGIC_COOKIE is missing or wrong, so it was not started by Terraform.)"
    )]
    NoCookie,
    #[error(
        "The client offered plugin protocol versions {offered:?}, but this provider speaks only version 6, \
         which Terraform 0.15.4 and later and every OpenTofu speak. Upgrade the client."
    )]
    NoCommonProtocol { offered: String },
}

/// Refuses to serve unless Terraform (or OpenTofu) started us and speaks protocol 6.
pub fn check_started_by_terraform() -> Result<(), NotStartedByTerraform> {
    check(
        std::env::var(MAGIC_COOKIE_KEY).ok().as_deref(),
        std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref(),
    )
}

fn check(cookie: Option<&str>, offered: Option<&str>) -> Result<(), NotStartedByTerraform> {
    if cookie != Some(MAGIC_COOKIE_VALUE) {
        return Err(NotStartedByTerraform::NoCookie);
    }
    // Without the list go-plugin clients expect the server's only version, as we do.
    match offered.filter(|v| !v.trim().is_empty()) {
        None => Ok(()),
        Some(list)
            if list
                .split(',')
                .any(|v| v.trim() == PROTOCOL_VERSION.to_string()) =>
        {
            Ok(())
        }
        Some(list) => Err(NotStartedByTerraform::NoCommonProtocol {
            offered: list.to_owned(),
        }),
    }
}

/// A loopback port within `PLUGIN_MIN_PORT`..=`PLUGIN_MAX_PORT` when the client bounds it,
/// else any free one.
pub fn listen() -> std::io::Result<tokio::net::TcpListener> {
    let bound = |key: &str| std::env::var(key).ok().and_then(|v| v.parse::<u16>().ok());
    let ports: Vec<u16> = match (bound("PLUGIN_MIN_PORT"), bound("PLUGIN_MAX_PORT")) {
        (None, None) | (Some(0), Some(0)) => vec![0],
        (min, max) => (min.unwrap_or(1024)..=max.unwrap_or(u16::MAX)).collect(),
    };
    let mut last = std::io::Error::new(std::io::ErrorKind::AddrInUse, "no port in range");
    for port in ports {
        match TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))) {
            Ok(listener) => {
                listener.set_nonblocking(true)?;
                return tokio::net::TcpListener::from_std(listener);
            }
            Err(err) => last = err,
        }
    }
    Err(last)
}

/// Writes the handshake line go-plugin waits for. Nothing may reach stdout before it.
pub fn announce(address: SocketAddr, certificate_der: Option<&[u8]>) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(line(address, certificate_der).as_bytes())?;
    stdout.flush()
}

/// `1|6|tcp|127.0.0.1:PORT|grpc|CERT`: CERT is our certificate, DER in base64 without padding,
/// empty when the client asked for no TLS.
fn line(address: SocketAddr, certificate_der: Option<&[u8]>) -> String {
    let certificate = certificate_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|tcp|{address}|grpc|{certificate}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_required() {
        assert!(matches!(
            check(None, Some("5,6")),
            Err(NotStartedByTerraform::NoCookie)
        ));
        assert!(matches!(
            check(Some("wrong"), Some("5,6")),
            Err(NotStartedByTerraform::NoCookie)
        ));
        assert!(check(Some(MAGIC_COOKIE_VALUE), Some("5,6")).is_ok());
    }

    #[test]
    fn protocol_six_must_be_offered() {
        assert!(check(Some(MAGIC_COOKIE_VALUE), None).is_ok());
        assert!(check(Some(MAGIC_COOKIE_VALUE), Some("6")).is_ok());
        let refused = check(Some(MAGIC_COOKIE_VALUE), Some("5")).unwrap_err();
        assert!(refused.to_string().contains("versions \"5\""), "{refused}");
    }

    #[test]
    fn line_carries_the_certificate_without_padding() {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 1234));
        assert_eq!(line(address, None), "1|6|tcp|127.0.0.1:1234|grpc|\n");
        // 4 bytes encode to 8 characters with padding, 6 without.
        assert_eq!(
            line(address, Some(&[1, 2, 3, 4])),
            "1|6|tcp|127.0.0.1:1234|grpc|AQIDBA\n"
        );
    }
}
