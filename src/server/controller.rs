//! go-plugin's services beside the provider: the controller Terraform's kill calls, the stdio
//! stream, and the health check its client pings.

use std::pin::Pin;

use futures::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::proto::health::health_check_response::ServingStatus;
use super::proto::health::{health_server, HealthCheckRequest, HealthCheckResponse};
use super::proto::plugin::{grpc_controller_server, grpc_stdio_server, Empty, StdioData};

/// `plugin.GRPCController/Shutdown`: stops the server, which ends the process.
pub struct Controller {
    shutdown: CancellationToken,
}

impl Controller {
    pub fn new(shutdown: CancellationToken) -> Self {
        Controller { shutdown }
    }
}

#[tonic::async_trait]
impl grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("Terraform asked the plugin to shut down");
        self.shutdown.cancel();
        Ok(Response::new(Empty {}))
    }
}

/// `plugin.GRPCStdio/StreamStdio`: we log to stderr, which go-plugin reads directly, so the
/// stream carries nothing; it stays open until shutdown, as the client expects of it.
pub struct Stdio {
    shutdown: CancellationToken,
}

impl Stdio {
    pub fn new(shutdown: CancellationToken) -> Self {
        Stdio { shutdown }
    }
}

type StdioStream = Pin<Box<dyn Stream<Item = Result<StdioData, Status>> + Send>>;

#[tonic::async_trait]
impl grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(
        &self,
        _request: Request<Empty>,
    ) -> Result<Response<StdioStream>, Status> {
        let shutdown = self.shutdown.clone().cancelled_owned();
        let ends_at_shutdown = futures::stream::once(shutdown);
        let nothing = futures::StreamExt::filter_map(ends_at_shutdown, |()| async {
            None::<Result<StdioData, Status>>
        });
        Ok(Response::new(Box::pin(nothing)))
    }
}

/// The gRPC health service; go-plugin's client checks the service named "plugin".
pub struct Health;

#[tonic::async_trait]
impl health_server::Health for Health {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        match request.into_inner().service.as_str() {
            "" | "plugin" => Ok(Response::new(HealthCheckResponse {
                status: ServingStatus::Serving as i32,
            })),
            other => Err(Status::not_found(format!("no service named {other:?}"))),
        }
    }
}
