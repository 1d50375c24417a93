//! One client connection: read frames, admit requests in order, run their
//! completions concurrently, write responses in request order.
//!
//! Memory is bounded at each step. Frame bytes are reserved from the shared
//! request pool as they arrive ([`super::memory_pool`]); finished responses
//! waiting for a slow client are counted and, above a bound, the connection
//! stops reading requests ([`ResponseQueue`]); idle connections, frames that
//! dribble in and writes that make no progress all end in a close.
//!
//! A client over a quota is muted ([`Mute`]): for its throttle time the
//! connection reads nothing, so nothing of it is buffered, while other
//! connections go on.

use std::io::IoSlice;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use kafka_protocol::messages::ApiKey;
use prometheus::IntGauge;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::codec::{self, CodecError, ResponseFrame};
use super::dispatch::{self, Completion};
use super::frame_read::{BufferedReader, FrameRead, TLS_READ_BUFFER};
use super::memory_pool::Reservation;
use super::mute::Mute;
use super::principal::Principal;
use super::sasl;
use super::session::Session;
use crate::config::listeners::SecurityProtocol;
use crate::context::AgentContext;
use crate::tls::subject::subject_dn;

/// Requests admitted but not yet answered on one connection. Reading stops
/// while this many are outstanding. Produce data is bounded separately by
/// the pending-bytes budget, so this can be large: librdkafka pipelines
/// many small Produce requests, and each waits about one flush.
const MAX_IN_FLIGHT: usize = 1024;
/// Fetch requests admitted but not yet answered on one connection. Kafka
/// clients send one Fetch at a time per broker; a client that pipelines
/// many (and does not read the answers) would otherwise make the agent read
/// up to `MAX_IN_FLIGHT` answers of up to `fetch.max.bytes` each.
const MAX_FETCHES_IN_FLIGHT: usize = 4;
/// Most bytes asked of the pool for one read.
const READ_CHUNK: usize = 64 * 1024;
/// Least room made for one read, so small pipelined frames are still read
/// several at a time.
const MIN_READ: usize = 8 * 1024;

/// Why a connection ended.
#[derive(Debug)]
enum Close {
    /// The client closed it, or the agent is shutting down.
    Normal,
    /// Idle for `connections_max_idle_ms`.
    Idle,
    /// A frame took longer than `frame_read_timeout_ms` to arrive.
    FrameTimeout,
    /// The writer stopped (the client does not read, or went away).
    WriterGone,
    /// Something the client sent (or the socket) forces a close.
    Error(String),
}

/// Serves one connection until the client closes it, sends something that
/// must close it, stalls past a limit, or `shutdown` fires (then in-flight
/// requests are still answered).
pub async fn serve_connection(
    ctx: Arc<AgentContext>,
    stream: TcpStream,
    protocol: SecurityProtocol,
    shutdown: CancellationToken,
) {
    let peer = stream.peer_addr().ok();
    let _ = stream.set_nodelay(true);
    ctx.metrics.connections.inc();
    if !protocol.tls() {
        let session = Session::new(peer, protocol, Principal::anonymous());
        let (reader, writer) = stream.into_split();
        serve(&ctx, reader, writer, session, &shutdown).await;
    } else if let Some((stream, principal)) = tls_handshake(&ctx, stream, peer).await {
        let session = Session::new(peer, protocol, principal);
        let (reader, writer) = tokio::io::split(stream);
        let reader = BufferedReader(BufReader::with_capacity(TLS_READ_BUFFER, reader));
        serve(&ctx, reader, writer, session, &shutdown).await;
    }
    ctx.metrics.connections.dec();
}

/// The TLS handshake of a connection on an SSL or SASL_SSL listener, in at
/// most `frame_read_timeout`; with mTLS, the principal is the client
/// certificate's subject. `None` (after counting why) when it fails, e.g. a
/// plaintext client on a TLS port.
async fn tls_handshake(
    ctx: &Arc<AgentContext>,
    stream: TcpStream,
    peer: Option<std::net::SocketAddr>,
) -> Option<(TlsStream<TcpStream>, Principal)> {
    let closed = |reason: &str| {
        ctx.metrics
            .connections_closed
            .with_label_values(&[reason])
            .inc()
    };
    let Some(certificates) = &ctx.tls else {
        warn!(?peer, "TLS listener without certificates; closing");
        return None;
    };
    let acceptor = certificates.acceptor();
    let stream = match tokio::time::timeout(
        ctx.connection.frame_read_timeout,
        acceptor.accept(stream),
    )
    .await
    {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            debug!(?peer, error = %e, "TLS handshake failed; closing");
            closed("tls_handshake");
            return None;
        }
        Err(_) => {
            debug!(?peer, "TLS handshake timed out; closing");
            closed("tls_handshake");
            return None;
        }
    };
    let principal = match stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
    {
        None => Principal::anonymous(),
        Some(leaf) => match subject_dn(leaf) {
            Ok(dn) => Principal::user(dn),
            Err(e) => {
                debug!(?peer, error = %e, "unreadable client certificate; closing");
                closed("tls_handshake");
                return None;
            }
        },
    };
    debug!(?peer, %principal, "TLS connection established");
    Some((stream, principal))
}

/// Serves an established connection (TCP, or TLS over it) until it ends.
async fn serve<R: FrameRead, W: AsyncWrite + Unpin + Send + 'static>(
    ctx: &Arc<AgentContext>,
    reader: R,
    writer: W,
    session: Session,
    shutdown: &CancellationToken,
) {
    let peer = session.peer;
    let (tx, rx) = mpsc::channel::<Pending>(MAX_IN_FLIGHT);
    let queue = Arc::new(ResponseQueue::new(
        ctx.metrics.queued_response_bytes.clone(),
    ));
    let writer_task = tokio::spawn(write_responses(writer, rx, queue.clone(), ctx.clone()));
    let close = read_requests(ctx, reader, &tx, &queue, session, shutdown).await;
    let closed = |reason: &str| ctx.metrics.connections_closed.with_label_values(&[reason]);
    match close {
        Close::Normal => {}
        Close::Idle => closed("idle").inc(),
        Close::FrameTimeout => closed("frame_timeout").inc(),
        Close::WriterGone => debug!(?peer, "closing connection: responses not taken"),
        Close::Error(reason) => debug!(?peer, reason, "closing connection"),
    }
    drop(tx);
    if let Err(e) = writer_task.await {
        warn!(?peer, error = %e, "connection writer failed");
    }
}

/// Reads and admits requests until the connection must end.
async fn read_requests(
    ctx: &Arc<AgentContext>,
    mut reader: impl FrameRead,
    tx: &mpsc::Sender<Pending>,
    queue: &Arc<ResponseQueue>,
    mut session: Session,
    shutdown: &CancellationToken,
) -> Close {
    let limits = ctx.connection;
    let mut buf = BytesMut::new();
    let mut memory = Reservation::new(&ctx.request_pool);
    let mut last_read = Instant::now();
    // When the first byte of the frame being read arrived.
    let mut frame_started: Option<Instant> = None;
    let mute = Arc::new(Mute::default());
    loop {
        if let Some(until) = mute.until() {
            tokio::select! {
                () = tokio::time::sleep_until(until) => {}
                () = tx.closed() => return Close::WriterGone,
                () = shutdown.cancelled() => return Close::Normal,
            }
            // Time spent muted is neither idleness nor a slow frame.
            last_read = Instant::now();
            if frame_started.is_some() {
                frame_started = Some(last_read);
            }
            continue;
        }
        match codec::decode_frame(&mut buf, session.max_frame_bytes(ctx.max_frame_bytes)) {
            Err(e) => return Close::Error(e.to_string()),
            Ok(Some(frame)) => {
                let fetch = frame.len() >= 2
                    && i16::from_be_bytes([frame[0], frame[1]]) == ApiKey::Fetch as i16;
                // A client that does not take its answers is not read from.
                tokio::select! {
                    () = queue.wait_for_room(limits.max_queued_response_bytes, fetch) => {}
                    () = tx.closed() => return Close::WriterGone,
                    () = shutdown.cancelled() => return Close::Normal,
                }
                let completion: Completion = if session.sasl.expects_raw_token() {
                    // SaslHandshake v0: the frame is a bare SASL token.
                    match sasl::raw_token(ctx, &mut session, frame).await {
                        Ok(reply) => Box::pin(std::future::ready(Ok(Some(reply.into())))),
                        Err(reason) => return Close::Error(reason),
                    }
                } else {
                    match dispatch::admit(ctx, frame, &mut session, &mute).await {
                        Ok(c) => c,
                        Err(e) => return Close::Error(e.to_string()),
                    }
                };
                queue.admitted(fetch);
                let counted = queue.clone();
                let handle = tokio::spawn(async move {
                    let answer = completion.await;
                    if let Ok(Some(frame)) = &answer {
                        counted.finished(frame.remaining());
                    }
                    answer
                });
                if tx.send(Pending { handle, fetch }).await.is_err() {
                    return Close::WriterGone;
                }
                // The answer is queued; the writer sends it before closing.
                if let Some(reason) = session.close_after_answer {
                    return Close::Error(reason.to_string());
                }
                // The request is admitted: its frame leaves the pool
                // (produce data now counts as pending bytes).
                if buf.is_empty() {
                    buf = BytesMut::new();
                    frame_started = None;
                } else {
                    frame_started = Some(Instant::now());
                }
                memory.shrink_to(buf.capacity());
                continue;
            }
            Ok(None) => {}
        }
        let deadline = match frame_started {
            Some(started) => started + limits.frame_read_timeout,
            None => last_read + limits.max_idle,
        };
        tokio::select! {
            ready = reader.readable() => if let Err(e) = ready {
                return Close::Error(format!("read failed: {e}"));
            },
            () = tokio::time::sleep_until(deadline) => {
                if frame_started.is_some() {
                    return Close::FrameTimeout;
                }
                if queue.unanswered() > 0 {
                    last_read = Instant::now(); // a request is in progress
                    continue;
                }
                return Close::Idle;
            }
            () = tx.closed() => return Close::WriterGone,
            () = shutdown.cancelled() => return Close::Normal,
        }
        if let Some(target) = room_to_read(&buf, ctx.request_pool.capacity()) {
            tokio::select! {
                grown = memory.grow_to(target) => if let Err(e) = grown {
                    return Close::Error(e.to_string());
                },
                () = tokio::time::sleep_until(deadline), if frame_started.is_some() => {
                    return Close::FrameTimeout;
                }
                () = shutdown.cancelled() => return Close::Normal,
            }
            let mut bigger = BytesMut::with_capacity(target);
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        match reader.try_read_buf(&mut buf) {
            Ok(0) if buf.is_empty() => return Close::Normal,
            Ok(0) => return Close::Error("connection closed mid-frame".into()),
            Ok(_) => {
                last_read = Instant::now();
                frame_started.get_or_insert(last_read);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Close::Error(format!("read failed: {e}")),
        }
        // Memory beyond what the buffer holds goes back at once, so a
        // connection that waits holds no pool memory it does not use.
        memory.shrink_to(buf.capacity());
    }
}

/// The capacity the read buffer must grow to before the next read, if it
/// lacks room: at least [`MIN_READ`] (or what the frame still needs, up to
/// [`READ_CHUNK`]), doubling while a large frame arrives so that reading it
/// copies it O(1) times, never beyond the frame itself or the pool.
fn room_to_read(buf: &BytesMut, pool: usize) -> Option<usize> {
    let len = buf.len();
    let frame_total = (len >= 4).then(|| {
        let announced = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        4 + announced as usize
    });
    let want = match frame_total {
        Some(total) if total > len => (total - len).clamp(MIN_READ, READ_CHUNK),
        _ => MIN_READ,
    };
    if buf.capacity() - len >= want {
        return None;
    }
    let mut target = len + want;
    if let Some(total) = frame_total {
        target = target.max((2 * len).min(total));
    }
    Some(target.min(pool).max(len + 1))
}

/// A response on its way, in request order.
#[derive(Debug)]
struct Pending {
    handle: JoinHandle<Result<Option<ResponseFrame>, CodecError>>,
    fetch: bool,
}

/// What one connection owes its client: requests not yet answered, and the
/// bytes of finished responses not yet written.
#[derive(Debug)]
struct ResponseQueue {
    bytes: AtomicUsize,
    unanswered: AtomicUsize,
    fetches: AtomicUsize,
    room: Notify,
    gauge: IntGauge,
}

impl ResponseQueue {
    fn new(gauge: IntGauge) -> Self {
        Self {
            bytes: AtomicUsize::new(0),
            unanswered: AtomicUsize::new(0),
            fetches: AtomicUsize::new(0),
            room: Notify::new(),
            gauge,
        }
    }

    fn unanswered(&self) -> usize {
        self.unanswered.load(Ordering::Acquire)
    }

    fn admitted(&self, fetch: bool) {
        self.unanswered.fetch_add(1, Ordering::AcqRel);
        if fetch {
            self.fetches.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// A response of `bytes` is ready to write.
    fn finished(&self, bytes: usize) {
        self.bytes.fetch_add(bytes, Ordering::AcqRel);
        self.gauge.add(bytes as i64);
    }

    /// A response was written (`bytes` of it counted) or needed none.
    fn answered(&self, bytes: usize, fetch: bool) {
        self.bytes.fetch_sub(bytes, Ordering::AcqRel);
        self.gauge.sub(bytes as i64);
        self.unanswered.fetch_sub(1, Ordering::AcqRel);
        if fetch {
            self.fetches.fetch_sub(1, Ordering::AcqRel);
        }
        self.room.notify_waiters();
    }

    /// Waits until fewer than `max_bytes` of responses wait to be written
    /// (and, before a Fetch, fewer than [`MAX_FETCHES_IN_FLIGHT`] fetches
    /// are unanswered). One response may exceed the bound by itself.
    async fn wait_for_room(&self, max_bytes: usize, fetch: bool) {
        loop {
            let notified = self.room.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let bytes_ok = self.bytes.load(Ordering::Acquire) < max_bytes;
            let fetch_ok = !fetch || self.fetches.load(Ordering::Acquire) < MAX_FETCHES_IN_FLIGHT;
            if bytes_ok && fetch_ok {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for ResponseQueue {
    fn drop(&mut self) {
        // Responses never written (the connection closed) leave the gauge.
        self.gauge.sub(*self.bytes.get_mut() as i64);
    }
}

/// Writes responses in request order. A write that makes no progress for
/// `write_timeout` ends the connection: the client stopped reading.
async fn write_responses<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut rx: mpsc::Receiver<Pending>,
    queue: Arc<ResponseQueue>,
    ctx: Arc<AgentContext>,
) {
    let write_timeout = ctx.connection.write_timeout;
    'responses: while let Some(Pending { handle, fetch }) = rx.recv().await {
        let mut response = match handle.await {
            Ok(Ok(Some(frame))) => frame,
            Ok(Ok(None)) => {
                queue.answered(0, fetch);
                continue;
            }
            Ok(Err(e)) => {
                warn!(error = %e, "cannot encode a response; closing connection");
                break;
            }
            Err(e) => {
                warn!(error = %e, "request handler failed; closing connection");
                break;
            }
        };
        let size = response.remaining();
        while response.has_remaining() {
            match write_some(&mut writer, &mut response, write_timeout).await {
                Ok(true) => {}
                Ok(false) => break 'responses,
                Err(_) => {
                    ctx.metrics
                        .connections_closed
                        .with_label_values(&["write_timeout"])
                        .inc();
                    break 'responses;
                }
            }
        }
        queue.answered(size, fetch);
    }
    // Unblocks a reader waiting for room: nothing more will be written.
    rx.close();
    let _ = writer.shutdown().await;
}

/// One vectored write (a Fetch answer's record data go out from the cache's
/// own buffers). `Ok(false)` when the socket failed; `Err` on timeout.
async fn write_some<W: AsyncWrite + Unpin>(
    writer: &mut W,
    response: &mut ResponseFrame,
    timeout: Duration,
) -> Result<bool, tokio::time::error::Elapsed> {
    let mut slices = [IoSlice::new(&[]); 64];
    let n = response.chunks_vectored(&mut slices);
    match tokio::time::timeout(timeout, writer.write_vectored(&slices[..n])).await? {
        Ok(0) | Err(_) => Ok(false),
        Ok(written) => {
            response.advance(written);
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::BufMut;
    use futures::FutureExt;

    use super::*;

    fn buffered(len: usize, announced: u32, capacity: usize) -> BytesMut {
        let mut buf = BytesMut::with_capacity(capacity.max(len));
        if len >= 4 {
            buf.put_u32(announced);
            buf.put_bytes(0, len - 4);
        } else {
            buf.put_bytes(0, len);
        }
        buf
    }

    #[test]
    fn an_announced_size_is_never_reserved_up_front() {
        // Header of a 100 MiB frame, nothing else yet: room for one small read.
        let buf = buffered(4, 100 << 20, 0);
        assert_eq!(room_to_read(&buf, 128 << 20), Some(4 + READ_CHUNK));
        // Enough spare room already: no growth.
        let buf = buffered(4, 100 << 20, 4 + READ_CHUNK);
        assert_eq!(room_to_read(&buf, 128 << 20), None);
    }

    #[test]
    fn a_large_frame_grows_by_doubling_up_to_its_size() {
        let mut len = 4 + READ_CHUNK;
        let total = 4 + (10 << 20);
        let mut steps = 0;
        while len < total {
            let buf = buffered(len, (total - 4) as u32, len);
            let target = room_to_read(&buf, 128 << 20).expect("full buffer must grow");
            assert!(
                target <= total.max(len + MIN_READ),
                "never beyond the frame"
            );
            assert!(target > len);
            len = target;
            steps += 1;
        }
        assert!(steps <= 10, "doubling, not chunk by chunk: {steps} steps");
    }

    #[test]
    fn small_frames_are_read_several_at_a_time_and_the_pool_caps_growth() {
        let buf = buffered(4, 10, 4);
        assert_eq!(room_to_read(&buf, 128 << 20), Some(4 + MIN_READ));
        let buf = buffered(1000, 2000, 1000);
        assert_eq!(room_to_read(&buf, 1500), Some(1500));
    }

    #[tokio::test]
    async fn a_full_response_queue_holds_the_reader_until_written() {
        let queue = Arc::new(ResponseQueue::new(IntGauge::new("q", "q").unwrap()));
        queue.admitted(true);
        queue.finished(100);
        assert!(
            queue.wait_for_room(64, false).now_or_never().is_none(),
            "100 queued bytes are over a bound of 64"
        );
        let q = queue.clone();
        let reader = tokio::spawn(async move { q.wait_for_room(64, false).await });
        tokio::task::yield_now().await;
        queue.answered(100, true);
        reader.await.unwrap();
        assert_eq!(queue.gauge.get(), 0);
        for _ in 0..MAX_FETCHES_IN_FLIGHT {
            queue.admitted(true);
        }
        assert!(
            queue.wait_for_room(64, true).now_or_never().is_none(),
            "too many fetches unanswered"
        );
        assert!(
            queue.wait_for_room(64, false).now_or_never().is_some(),
            "other requests are still read"
        );
    }
}
