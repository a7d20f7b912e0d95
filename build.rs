//! Generates the gRPC server code for the plugin protocol from `proto/` with the `protoc` in
//! `PROTOC` (the Makefile points it at the venv's).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_build::configure()
        .build_client(false)
        .compile_protos(
            &[
                "proto/tfplugin6.proto",
                "proto/plugin.proto",
                "proto/health.proto",
            ],
            &["proto"],
        )?;
    Ok(())
}
