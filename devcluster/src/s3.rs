//! The cluster's S3-compatible server, in this process: s3s-fs serves a folder (a bucket
//! is a sub-folder, an object a file) over HTTP on a free port of 127.0.0.1, with
//! path-style addressing and signature checks against one access key.

use std::net::SocketAddr;
use std::path::Path;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::DevClusterError;

/// The access key agents sign with.
pub const ACCESS_KEY: &str = "floe-dev";
/// The secret key agents sign with.
pub const SECRET_KEY: &str = "floe-dev-secret";
/// The region agents are told.
pub const REGION: &str = "us-east-1";

/// A running S3 server; [`S3Server::stop`] stops accepting and closes connections.
#[derive(Debug)]
pub struct S3Server {
    addr: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl S3Server {
    /// Serves `root` (created with a folder per bucket in `buckets`) on a free port.
    pub async fn start(root: &Path, buckets: &[&str]) -> Result<S3Server, DevClusterError> {
        for bucket in buckets {
            std::fs::create_dir_all(root.join(bucket))
                .map_err(DevClusterError::io("cannot create the bucket folder"))?;
        }
        let fs = s3s_fs::FileSystem::new(root).map_err(|error| DevClusterError::S3 {
            root: root.to_path_buf(),
            message: format!("{error:?}"),
        })?;
        let service = {
            let mut builder = S3ServiceBuilder::new(fs);
            builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
            builder.build()
        };
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(DevClusterError::io("cannot bind the S3 server"))?;
        let addr = listener
            .local_addr()
            .map_err(DevClusterError::io("no local address for the S3 server"))?;
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            let graceful = hyper_util::server::graceful::GracefulShutdown::new();
            loop {
                let socket = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((socket, _)) => socket,
                        Err(error) => {
                            tracing::warn!(%error, "s3 server cannot accept");
                            continue;
                        }
                    },
                    () = stopped.cancelled() => break,
                };
                let conn = http.serve_connection(TokioIo::new(socket), service.clone());
                let conn = graceful.watch(conn.into_owned());
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            // Agents are gone by now; do not wait long for idle keep-alive connections.
            let _ =
                tokio::time::timeout(std::time::Duration::from_secs(2), graceful.shutdown()).await;
        });
        Ok(S3Server { addr, stop, task })
    }

    /// The endpoint URL agents are given (`AWS_ENDPOINT_URL`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for it.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}
