//! One client connection: read frames, admit requests in order, run their
//! completions concurrently, write responses in request order.

use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::codec::{self, CodecError, ResponseFrame};
use super::dispatch::{self, Completion};
use crate::context::AgentContext;

/// Requests admitted but not yet answered on one connection. Reading stops
/// while this many are outstanding. Produce data is bounded separately by
/// the pending-bytes budget, so this can be large: librdkafka pipelines
/// many small Produce requests, and each waits about one flush.
const MAX_IN_FLIGHT: usize = 1024;
const READ_CHUNK: usize = 64 * 1024;

/// Serves one connection until the client closes it, sends something that
/// must close it, or `shutdown` fires (then in-flight requests are still
/// answered).
pub async fn serve_connection(
    ctx: Arc<AgentContext>,
    stream: TcpStream,
    shutdown: CancellationToken,
) {
    let peer = stream.peer_addr().ok();
    let _ = stream.set_nodelay(true);
    ctx.metrics.connections.inc();
    let (mut reader, writer) = stream.into_split();
    let (tx, rx) =
        mpsc::channel::<JoinHandle<Result<Option<ResponseFrame>, CodecError>>>(MAX_IN_FLIGHT);
    let writer_task = tokio::spawn(write_responses(writer, rx));
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let close_reason: Option<String> = loop {
        match codec::decode_frame(&mut buf, ctx.max_frame_bytes) {
            Err(e) => break Some(e.to_string()),
            Ok(Some(frame)) => {
                let completion: Completion = match dispatch::admit(&ctx, frame, peer).await {
                    Ok(c) => c,
                    Err(e) => break Some(e.to_string()),
                };
                if tx.send(tokio::spawn(completion)).await.is_err() {
                    break None; // the writer is gone: the peer stopped reading
                }
                continue;
            }
            Ok(None) => {}
        }
        if buf.capacity() - buf.len() < READ_CHUNK.min(buf.capacity()) {
            buf.reserve(READ_CHUNK);
        }
        tokio::select! {
            read = reader.read_buf(&mut buf) => match read {
                Ok(0) => break (!buf.is_empty()).then(|| "connection closed mid-frame".to_string()),
                Ok(_) => {}
                Err(e) => break Some(format!("read failed: {e}")),
            },
            _ = shutdown.cancelled() => break None,
        }
    };
    if let Some(reason) = close_reason {
        debug!(?peer, reason, "closing connection");
    }
    drop(tx);
    if let Err(e) = writer_task.await {
        warn!(?peer, error = %e, "connection writer failed");
    }
    ctx.metrics.connections.dec();
}

async fn write_responses(
    mut writer: tokio::net::tcp::OwnedWriteHalf,
    mut rx: mpsc::Receiver<JoinHandle<Result<Option<ResponseFrame>, CodecError>>>,
) {
    while let Some(handle) = rx.recv().await {
        let mut response = match handle.await {
            Ok(Ok(Some(frame))) => frame,
            Ok(Ok(None)) => continue,
            Ok(Err(e)) => {
                warn!(error = %e, "cannot encode a response; closing connection");
                break;
            }
            Err(e) => {
                warn!(error = %e, "request handler failed; closing connection");
                break;
            }
        };
        // Vectored: a Fetch answer's record data go out from the cache.
        if writer.write_all_buf(&mut response).await.is_err() {
            break;
        }
    }
    let _ = writer.shutdown().await;
}
