//! Free TCP ports on 127.0.0.1 for agents started by tests.

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

/// Ports this process already handed out; never handed out twice, so tests running in
/// parallel threads cannot be given the same port.
static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// Returns a port on 127.0.0.1 that was free a moment ago and that this process has not
/// handed out before.
pub fn free_port() -> Result<u16> {
    for _ in 0..100 {
        let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind 127.0.0.1:0")?;
        let port = listener.local_addr().context("no local address")?.port();
        drop(listener);
        let mut guard = HANDED_OUT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.get_or_insert_with(HashSet::new).insert(port) {
            return Ok(port);
        }
    }
    bail!("no free port found on 127.0.0.1 after 100 tries")
}
