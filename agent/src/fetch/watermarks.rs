//! Wake-ups of long-polling fetches, partition by partition. A fetch that
//! found too little data waits on the partitions it reads; a commit of this
//! agent wakes only the fetches of the partitions it appended to, so a busy
//! partition does not make every idle consumer re-read the store. Commits
//! of other agents arrive without detail (a notification, a poll tick) and
//! wake every waiting fetch.
//!
//! Only partitions someone waits on have an entry: the map is as large as
//! the set of partitions being long-polled, and an entry goes with its
//! last waiter.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use floe_metadata::TopicId;
use futures::future::select_all;
use tokio::sync::watch;
use tokio::time::Instant;

type Partition = (TopicId, i32);

/// The partitions being waited on, and a wake-up for all of them.
#[derive(Debug)]
pub struct Watermarks {
    partitions: Mutex<HashMap<Partition, watch::Sender<()>>>,
    everyone: watch::Sender<()>,
}

impl Default for Watermarks {
    fn default() -> Self {
        Self {
            partitions: Mutex::default(),
            everyone: watch::Sender::new(()),
        }
    }
}

impl Watermarks {
    /// Wakes the fetches waiting on any of `partitions`: they moved.
    pub fn advanced(&self, partitions: impl IntoIterator<Item = Partition>) {
        let Ok(map) = self.partitions.lock() else {
            return;
        };
        for p in partitions {
            if let Some(sender) = map.get(&p) {
                sender.send_replace(());
            }
        }
    }

    /// Wakes every waiting fetch: some partition moved, which one is not
    /// known (a commit of another agent).
    pub fn wake_all(&self) {
        self.everyone.send_replace(());
    }

    /// Starts watching `partitions`, before the fetch reads them, so that
    /// a commit landing between its read and its wait is not missed.
    pub fn watch(self: &Arc<Self>, partitions: &[Partition]) -> Watch {
        let mut receivers = Vec::with_capacity(partitions.len() + 1);
        let mut everyone = self.everyone.subscribe();
        everyone.mark_unchanged();
        receivers.push(everyone);
        if let Ok(mut map) = self.partitions.lock() {
            for p in partitions {
                let mut rx = map
                    .entry(*p)
                    .or_insert_with(|| watch::Sender::new(()))
                    .subscribe();
                rx.mark_unchanged();
                receivers.push(rx);
            }
        }
        Watch {
            owner: self.clone(),
            partitions: partitions.to_vec(),
            receivers,
        }
    }
}

/// A fetch's watch over its partitions; see [`Watermarks::watch`].
#[derive(Debug)]
pub struct Watch {
    owner: Arc<Watermarks>,
    partitions: Vec<Partition>,
    receivers: Vec<watch::Receiver<()>>,
}

impl Watch {
    /// Marks what happened so far as seen: call before each read.
    pub fn seen(&mut self) {
        for rx in &mut self.receivers {
            rx.mark_unchanged();
        }
    }

    /// Waits until one of the partitions moved since [`Watch::seen`], a
    /// wake-up for everyone came, or `deadline`.
    pub async fn until_moved(&mut self, deadline: Instant) {
        let changes = self.receivers.iter_mut().map(|rx| Box::pin(rx.changed()));
        let _ = tokio::time::timeout_at(deadline, select_all(changes)).await;
    }
}

impl Drop for Watch {
    /// Forgets the partitions nobody waits on any more.
    fn drop(&mut self) {
        self.receivers.clear();
        if let Ok(mut map) = self.owner.partitions.lock() {
            for p in &self.partitions {
                if map.get(p).is_some_and(|s| s.receiver_count() == 0) {
                    map.remove(p);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(10)
    }

    #[tokio::test]
    async fn a_commit_wakes_only_the_fetches_of_its_partitions() {
        let marks = Arc::new(Watermarks::default());
        let (a, b) = ((TopicId::nil(), 0), (TopicId::nil(), 1));
        let mut on_a = marks.watch(&[a]);
        let mut on_b = marks.watch(&[b]);
        marks.advanced([a]);
        on_a.until_moved(soon()).await;
        let timed_out = Instant::now() + Duration::from_millis(50);
        on_b.until_moved(timed_out).await;
        assert!(Instant::now() >= timed_out, "b was woken by a commit to a");
        // A commit between the read and the wait is not missed...
        on_b.seen();
        marks.advanced([b]);
        on_b.until_moved(soon()).await;
        // ...and wake_all reaches everyone.
        on_a.seen();
        marks.wake_all();
        on_a.until_moved(soon()).await;
    }

    #[tokio::test]
    async fn partitions_nobody_waits_on_are_forgotten() {
        let marks = Arc::new(Watermarks::default());
        let p = (TopicId::nil(), 3);
        let first = marks.watch(&[p]);
        let second = marks.watch(&[p]);
        drop(first);
        assert_eq!(marks.partitions.lock().unwrap().len(), 1);
        drop(second);
        assert!(marks.partitions.lock().unwrap().is_empty());
        marks.advanced([p]);
    }
}
