//! Our own plugin-protocol server: the go-plugin handshake, AutoMTLS, go-plugin's controller,
//! stdio and health services, and the `tfplugin6.Provider` service at protocol 6.10, which
//! hands resources and data sources to their tf-provider trait implementations.

mod controller;
mod generated_config;
mod handshake;
mod provider_service;
mod schema;
pub mod served;
mod tls;
mod values;

pub use handshake::check_started_by_terraform;

use anyhow::Context as _;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;

use controller::{Controller, Health, Stdio};
use provider_service::ProviderService;
use served::Catalog;

/// Generated from `proto/` by build.rs.
mod proto {
    #![allow(clippy::all, clippy::pedantic, dead_code)]
    pub mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
    pub mod plugin {
        tonic::include_proto!("plugin");
    }
    pub mod health {
        tonic::include_proto!("grpc.health.v1");
    }
}

/// terraform-plugin-go's limit; tonic's default of 4 MiB is too small for large states.
const MAX_MESSAGE_BYTES: usize = 256 << 20;

/// Serves the provider until Terraform shuts it down (GRPCController/Shutdown).
pub async fn serve(catalog: Catalog) -> anyhow::Result<()> {
    let listener = handshake::listen().context("opening the plugin's TCP port")?;
    let address = listener.local_addr()?;
    let tls = tls::AutoMtls::from_env().context("setting up AutoMTLS")?;
    let shutdown = CancellationToken::new();

    let provider =
        proto::tfplugin6::provider_server::ProviderServer::new(ProviderService::new(catalog))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let router = tonic::transport::Server::builder()
        .add_service(provider)
        .add_service(
            proto::plugin::grpc_controller_server::GrpcControllerServer::new(Controller::new(
                shutdown.clone(),
            )),
        )
        .add_service(proto::plugin::grpc_stdio_server::GrpcStdioServer::new(
            Stdio::new(shutdown.clone()),
        ))
        .add_service(proto::health::health_server::HealthServer::new(Health));

    // go-plugin reads this first stdout line; the port already accepts connections.
    handshake::announce(address, tls.as_ref().map(tls::AutoMtls::certificate_der))?;
    tracing::debug!("serving plugin protocol 6 on {address}");
    let stopped = shutdown.cancelled_owned();
    let served = match tls {
        Some(tls) => {
            router
                .serve_with_incoming_shutdown(tls.incoming(listener), stopped)
                .await
        }
        None => {
            router
                .serve_with_incoming_shutdown(TcpListenerStream::new(listener), stopped)
                .await
        }
    };
    served.context("serving gRPC")
}
