//! Muting a connection for a quota's throttle time, as Kafka mutes a
//! throttled client's channel (KIP-219): the connection reads and admits
//! nothing until the time is up. Requests already admitted still
//! complete and are answered; nothing is buffered while muted, because
//! nothing more is read.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::time::{Duration, Instant};

/// When one connection may read again. Set by the request handlers
/// (admission, or a Fetch's completion), read by the connection's reader.
#[derive(Debug)]
pub struct Mute {
    epoch: Instant,
    /// Milliseconds after `epoch` until which the connection is muted;
    /// 0 when it never was.
    until_ms: AtomicU64,
}

impl Default for Mute {
    fn default() -> Self {
        Mute {
            epoch: Instant::now(),
            until_ms: AtomicU64::new(0),
        }
    }
}

impl Mute {
    /// Mutes the connection for `ms` from now (never shortening a mute
    /// already in force). Zero does nothing.
    pub fn mute_for(&self, ms: u64) {
        if ms == 0 {
            return;
        }
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.until_ms
            .fetch_max(now.saturating_add(ms), Ordering::AcqRel);
    }

    /// When the mute ends, if the connection is muted now.
    pub fn until(&self) -> Option<Instant> {
        let until = self.until_ms.load(Ordering::Acquire);
        if until == 0 {
            return None;
        }
        let at = self.epoch + Duration::from_millis(until);
        (at > Instant::now()).then_some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_mute_lasts_its_time_and_is_never_shortened() {
        let mute = Mute::default();
        assert_eq!(mute.until(), None);
        mute.mute_for(0);
        assert_eq!(mute.until(), None, "zero mutes nothing");
        mute.mute_for(100);
        let first = mute.until().expect("muted");
        mute.mute_for(10);
        assert_eq!(mute.until(), Some(first), "a shorter mute changes nothing");
        // Sleeping at least as long ends it, however slow the machine.
        tokio::time::sleep(Duration::from_millis(101)).await;
        assert_eq!(mute.until(), None);
    }
}
