//! Connection admission (Kafka's `max.connections` and
//! `max.connections.per.ip`) and the per-connection bounds every
//! connection is served with.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How each connection is bounded once accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// A connection with no request in progress and nothing read for this
    /// long is closed (Kafka's `connections.max.idle.ms`).
    pub max_idle: Duration,
    /// Longest time one request frame may take to arrive once its first
    /// byte is in, waiting for pool memory included: a client dribbling a
    /// frame cannot hold pool memory for ever.
    pub frame_read_timeout: Duration,
    /// A response write that makes no progress for this long closes the
    /// connection (the client stopped reading).
    pub write_timeout: Duration,
    /// Bytes of finished responses waiting to be written, above which the
    /// connection stops reading requests until the client catches up.
    pub max_queued_response_bytes: usize,
}

/// Why a new connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// `max_connections` are open.
    #[error("{0} connections are open, the limit")]
    Total(usize),
    /// `max_connections_per_ip` are open from this address.
    #[error("{0} connections are open from this address, the limit")]
    PerIp(usize),
}

impl Refused {
    /// Metric label of the reason.
    pub fn label(&self) -> &'static str {
        match self {
            Refused::Total(_) => "total",
            Refused::PerIp(_) => "per_ip",
        }
    }
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_ip: HashMap<IpAddr, usize>,
}

/// Counts open connections, in total and by client address.
#[derive(Debug)]
pub struct ConnectionLimits {
    max_total: usize,
    max_per_ip: usize,
    open: Mutex<Open>,
}

impl ConnectionLimits {
    /// Limits of `max_total` connections, `max_per_ip` from one address.
    pub fn new(max_total: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(Self {
            max_total,
            max_per_ip,
            open: Mutex::default(),
        })
    }

    /// Admits a connection from `ip`, or says why not. The permit counts
    /// the connection until it is dropped.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<ConnectionPermit, Refused> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.max_total {
            return Err(Refused::Total(self.max_total));
        }
        let from_ip = open.by_ip.get(&ip).copied().unwrap_or(0);
        if from_ip >= self.max_per_ip {
            return Err(Refused::PerIp(self.max_per_ip));
        }
        open.total += 1;
        open.by_ip.insert(ip, from_ip + 1);
        Ok(ConnectionPermit {
            limits: self.clone(),
            ip,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.lock().map_or(0, |o| o.total)
    }

    fn release(&self, ip: IpAddr) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_ip.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                open.by_ip.remove(&ip);
            }
        }
    }
}

/// One admitted connection; frees its place when dropped.
#[derive(Debug)]
pub struct ConnectionPermit {
    limits: Arc<ConnectionLimits>,
    ip: IpAddr,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.limits.release(self.ip);
    }
}

/// Delay after a failed `accept()` (out of file descriptors, most often):
/// 10 ms doubling to 1 s, so the loop does not spin at full CPU while the
/// error lasts; reset by the next success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptBackoff {
    next: Duration,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    /// No failure yet.
    pub fn new() -> Self {
        Self { next: Self::FIRST }
    }

    /// The delay to wait after a failure; the next one will be longer.
    pub fn failed(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        delay
    }

    /// An accept succeeded: start again from the shortest delay.
    pub fn succeeded(&mut self) {
        self.next = Self::FIRST;
    }
}

impl Default for AcceptBackoff {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn per_ip_and_total_limits_hold_and_free_on_drop() {
        let limits = ConnectionLimits::new(3, 2);
        let a1 = limits.admit(A).unwrap();
        let _a2 = limits.admit(A).unwrap();
        assert_eq!(limits.admit(A).unwrap_err(), Refused::PerIp(2));
        let _b1 = limits.admit(B).unwrap();
        assert_eq!(limits.admit(B).unwrap_err(), Refused::Total(3));
        assert_eq!(limits.open(), 3);
        drop(a1);
        assert_eq!(limits.open(), 2);
        let _a3 = limits.admit(A).expect("a freed place is reusable");
    }

    #[test]
    fn accept_backoff_doubles_to_a_second_and_resets() {
        let mut b = AcceptBackoff::new();
        let delays: Vec<u64> = (0..9).map(|_| b.failed().as_millis() as u64).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        b.succeeded();
        assert_eq!(b.failed(), Duration::from_millis(10));
    }
}
