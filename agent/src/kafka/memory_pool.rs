//! The request-memory pool (Kafka's `queued.max.request.bytes`): one budget
//! of bytes shared by every connection for request frames being read.
//!
//! A connection reserves memory as bytes arrive, never the length a frame
//! announces, so a header claiming 100 MiB costs nothing until 100 MiB are
//! really sent. When the pool is spent, connections wait for memory instead
//! of reading (back-pressure); they do not fail. A frame's memory goes back
//! to the pool once the request is admitted: produce data then counts
//! against the pending-bytes budget instead.

use std::sync::Arc;

use prometheus::IntGauge;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Largest single grant: the semaphore counts permits in `u32`.
const MAX_GRANT: usize = u32::MAX as usize;

/// A byte budget shared by all connections.
#[derive(Debug)]
pub struct MemoryPool {
    permits: Arc<Semaphore>,
    capacity: usize,
    in_use: IntGauge,
}

impl MemoryPool {
    /// A pool of `capacity` bytes; `in_use` shows the bytes reserved.
    pub fn new(capacity: usize, in_use: IntGauge) -> Arc<Self> {
        let capacity = capacity.min(Semaphore::MAX_PERMITS);
        Arc::new(Self {
            permits: Arc::new(Semaphore::new(capacity)),
            capacity,
            in_use,
        })
    }

    /// The pool's size.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes reserved now, by all connections.
    pub fn reserved(&self) -> usize {
        self.capacity - self.permits.available_permits()
    }

    fn publish(&self) {
        self.in_use
            .set(i64::try_from(self.reserved()).unwrap_or(i64::MAX));
    }
}

/// The bytes one connection holds from a [`MemoryPool`]; returned to the
/// pool when shrunk or dropped.
#[derive(Debug)]
pub struct Reservation {
    pool: Arc<MemoryPool>,
    held: Option<OwnedSemaphorePermit>,
}

impl Reservation {
    /// An empty reservation from `pool`.
    pub fn new(pool: &Arc<MemoryPool>) -> Self {
        Self {
            pool: pool.clone(),
            held: None,
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.held
            .as_ref()
            .map_or(0, OwnedSemaphorePermit::num_permits)
    }

    /// Grows the reservation to `target` bytes, waiting while the pool is
    /// spent. Asking for more than the whole pool can never succeed, so it
    /// is refused at once (the caller keeps frames below the pool size).
    pub async fn grow_to(&mut self, target: usize) -> Result<(), PoolError> {
        if target > self.pool.capacity {
            return Err(PoolError::LargerThanPool {
                wanted: target,
                capacity: self.pool.capacity,
            });
        }
        while self.bytes() < target {
            let grant = (target - self.bytes()).min(MAX_GRANT);
            let more = self
                .pool
                .permits
                .clone()
                .acquire_many_owned(u32::try_from(grant).unwrap_or(u32::MAX))
                .await
                .map_err(|_| PoolError::Closed)?;
            match &mut self.held {
                Some(held) => held.merge(more),
                None => self.held = Some(more),
            }
            self.pool.publish();
        }
        Ok(())
    }

    /// Gives back everything above `target` bytes.
    pub fn shrink_to(&mut self, target: usize) {
        let bytes = self.bytes();
        if bytes <= target {
            return;
        }
        if target == 0 {
            self.held = None;
        } else if let Some(held) = &mut self.held {
            drop(held.split(bytes - target));
        }
        self.pool.publish();
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.held.take().is_some() {
            self.pool.publish();
        }
    }
}

/// Why memory could not be reserved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// More than the whole pool was asked for.
    #[error("{wanted} bytes asked of a request memory pool of {capacity}")]
    LargerThanPool {
        /// Bytes asked for.
        wanted: usize,
        /// The pool's size.
        capacity: usize,
    },
    /// The pool was closed (never done while the agent runs).
    #[error("request memory pool closed")]
    Closed,
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    fn pool(capacity: usize) -> (Arc<MemoryPool>, IntGauge) {
        let gauge = IntGauge::new("pool", "test").unwrap();
        (MemoryPool::new(capacity, gauge.clone()), gauge)
    }

    #[tokio::test]
    async fn reservations_grow_shrink_and_return_on_drop() {
        let (pool, gauge) = pool(100);
        let mut a = Reservation::new(&pool);
        a.grow_to(30).await.unwrap();
        a.grow_to(60).await.unwrap();
        a.grow_to(10).await.unwrap(); // already holds more: no change
        assert_eq!((a.bytes(), pool.reserved(), gauge.get()), (60, 60, 60));
        a.shrink_to(25);
        assert_eq!((a.bytes(), pool.reserved(), gauge.get()), (25, 25, 25));
        drop(a);
        assert_eq!((pool.reserved(), gauge.get()), (0, 0));
    }

    #[tokio::test]
    async fn a_spent_pool_makes_readers_wait_until_memory_is_returned() {
        let (pool, _) = pool(100);
        let mut first = Reservation::new(&pool);
        first.grow_to(80).await.unwrap();
        let mut second = Reservation::new(&pool);
        // 40 more do not fit: the second reader waits rather than fails.
        assert!(
            second.grow_to(40).now_or_never().is_none(),
            "must wait while the pool is spent"
        );
        assert_eq!(second.bytes(), 0);
        let pool_for_task = pool.clone();
        let waiter = tokio::spawn(async move {
            let mut r = Reservation::new(&pool_for_task);
            r.grow_to(40).await.map(|()| r.bytes())
        });
        first.shrink_to(50);
        assert_eq!(waiter.await.unwrap(), Ok(40));
    }

    #[tokio::test]
    async fn more_than_the_whole_pool_is_refused_not_awaited_forever() {
        let (pool, _) = pool(100);
        let mut r = Reservation::new(&pool);
        assert_eq!(
            r.grow_to(101).await,
            Err(PoolError::LargerThanPool {
                wanted: 101,
                capacity: 100
            })
        );
        assert_eq!(pool.reserved(), 0);
    }
}
