//! A TCP proxy between Kafka clients and an agent that injects one kind of
//! fault: it drops the connection when a Produce response comes back, after
//! the agent has committed the records but before the client hears of it.
//! The client then retries a write that is already stored, which is exactly
//! what idempotent producers must survive without duplicates.
//!
//! The proxy reads Kafka's length-prefixed frames (request header: api key,
//! version, correlation id) and otherwise forwards bytes untouched.

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};

const PRODUCE: i16 = 0;

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    dropped: Arc<AtomicUsize>,
    upstream: Arc<Mutex<Option<SocketAddr>>>,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listens on a free port of 127.0.0.1 and forwards to the upstream set
    /// with [`FaultProxy::set_upstream`], dropping the connection instead of
    /// delivering each of the first `produce_faults` Produce responses.
    /// (The upstream comes later because the agent must be told the proxy's
    /// address, to advertise it, before it starts.)
    pub fn start(produce_faults: usize) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").context("bind proxy")?;
        listener
            .set_nonblocking(true)
            .context("nonblocking proxy listener")?;
        let addr = listener.local_addr().context("proxy address")?;
        let stop = Arc::new(AtomicBool::new(false));
        let budget = Arc::new(AtomicUsize::new(produce_faults));
        let dropped = Arc::new(AtomicUsize::new(0));
        let upstream: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        let accept = {
            let (stop, budget, dropped) = (stop.clone(), budget.clone(), dropped.clone());
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let (budget, dropped) = (budget.clone(), dropped.clone());
                            let Some(upstream) = upstream.lock().ok().and_then(|u| *u) else {
                                continue; // no upstream yet: refuse by closing
                            };
                            std::thread::spawn(move || {
                                let _ = relay(client, upstream, budget, dropped);
                            });
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => break,
                    }
                }
            })
        };
        Ok(Self {
            addr,
            stop,
            dropped,
            upstream,
            accept: Some(accept),
        })
    }

    /// Where to forward connections accepted from now on.
    pub fn set_upstream(&self, upstream: SocketAddr) {
        if let Ok(mut u) = self.upstream.lock() {
            *u = Some(upstream);
        }
    }

    /// The address clients (and the agent's advertisement) should use.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many Produce responses were dropped so far.
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// Reads one length-prefixed frame, or `None` at a clean end of stream.
fn read_frame(stream: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match stream.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let size = i32::from_be_bytes(len);
    let size = usize::try_from(size).map_err(|_| io::Error::other("negative frame size"))?;
    let mut frame = Vec::with_capacity(4 + size);
    frame.extend_from_slice(&len);
    frame.resize(4 + size, 0);
    stream.read_exact(&mut frame[4..])?;
    Ok(Some(frame))
}

fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    budget: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
) -> io::Result<()> {
    let mut server = TcpStream::connect(upstream)?;
    let produce_ids: Arc<Mutex<HashSet<i32>>> = Arc::default();
    // Client to agent: forward, remembering which correlation ids are Produce.
    let up = {
        let (mut client, mut server) = (client.try_clone()?, server.try_clone()?);
        let produce_ids = produce_ids.clone();
        std::thread::spawn(move || -> io::Result<()> {
            while let Some(frame) = read_frame(&mut client)? {
                if frame.len() >= 12 {
                    let api = i16::from_be_bytes([frame[4], frame[5]]);
                    let correlation =
                        i32::from_be_bytes([frame[8], frame[9], frame[10], frame[11]]);
                    if api == PRODUCE
                        && let Ok(mut ids) = produce_ids.lock()
                    {
                        ids.insert(correlation);
                    }
                }
                server.write_all(&frame)?;
            }
            let _ = server.shutdown(Shutdown::Write);
            Ok(())
        })
    };
    // Agent to client: forward, except that a Produce response within the
    // fault budget closes both connections instead.
    let result = (|| -> io::Result<()> {
        while let Some(frame) = read_frame(&mut server)? {
            if frame.len() >= 8 {
                let correlation = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
                let is_produce = produce_ids
                    .lock()
                    .map(|mut ids| ids.remove(&correlation))
                    .unwrap_or(false);
                let take = is_produce
                    && budget
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1))
                        .is_ok();
                if take {
                    dropped.fetch_add(1, Ordering::SeqCst);
                    let _ = client.shutdown(Shutdown::Both);
                    let _ = server.shutdown(Shutdown::Both);
                    return Ok(());
                }
            }
            client.write_all(&frame)?;
        }
        let _ = client.shutdown(Shutdown::Write);
        Ok(())
    })();
    let _ = up.join();
    result
}
