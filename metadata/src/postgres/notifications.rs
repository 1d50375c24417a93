//! Store events: a `LISTEN` on the channel `floe_commits`, which every
//! store notifies after its commits that appended something, and on
//! `floe_topics`, notified by each change of a topic (deletion, for now)
//! with the topic's name (`topics.rs`), so agents drop what they cached.
//!
//! The store notifies after the commit, from a background task
//! ([`Notifier`]), not inside the commit's transaction (as an earlier
//! version of `floe_commit_segment` did): a transaction that has
//! run `NOTIFY` takes a lock for the whole server at commit and keeps it
//! until its commit record is flushed, so notifying commits could not share
//! a flush, even on unrelated partitions (docs/benchmarks.md, "Metadata
//! commit"). The task sends one `NOTIFY` at a time, at most one every
//! [`NOTIFY_INTERVAL`], with the id of the last segment committed; commits
//! made meanwhile are merged into the next. A notification is sent once the
//! commit is visible; if the agent stops between the two, listeners learn of
//! the commit when they poll.
//!
//! Each stream has its own connection, in a private pool of one made with
//! the store's connect options, so a long-lived `LISTEN` never takes one of
//! the store's connections. When that connection fails the stream connects
//! again, waiting longer after each failure in a row (100 ms doubling up to
//! 2 s, [`Reconnect::DEFAULT`]) while the server stays away; notifications
//! sent in the gap are lost (Postgres keeps none for a listener that is not
//! connected), which is why callers also poll, and why the stream yields
//! [`StoreEvent::Resumed`] once it listens again.

use std::time::Duration;

use futures::StreamExt;
use sqlx::PgPool;
use sqlx::pool::CloseEvent;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::watch;

use crate::{CommitNotifications, MetadataError, Result, SegmentId, StoreEvent};

/// The channel stores notify after their commits.
const CHANNEL: &str = "floe_commits";
/// The channel of topic changes; the payload is the topic's name.
const TOPICS_CHANNEL: &str = "floe_topics";

/// Notifies [`CHANNEL`]; `$1` is the payload, the last segment id.
const COMMIT_NOTIFY: &str = include_str!("../../queries/postgres/commit_notify.sql");

/// The shortest time between two notifications of a store. Each wakes
/// every listening agent, and takes a transaction and a lock for the whole
/// server: under load one carries the commits of this long, a delay that
/// wakes other agents' fetches a little later (an agent wakes its own at
/// once).
const NOTIFY_INTERVAL: Duration = Duration::from_millis(5);

/// Sends a store's notifications, after its commits, from a background
/// task; every clone of the store shares it, and the task ends when the
/// last one is dropped.
#[derive(Debug)]
pub(super) struct Notifier {
    /// The last segment committed and not yet notified.
    latest: watch::Sender<Option<SegmentId>>,
}

impl Notifier {
    /// Starts the task that notifies through `pool`. Must be called inside
    /// the Tokio runtime.
    pub(super) fn start(pool: PgPool) -> Notifier {
        let (latest, receiver) = watch::channel(None);
        tokio::spawn(notify_commits(pool, receiver));
        Notifier { latest }
    }

    /// Wakes the listeners, soon, for `segment`, which has just been
    /// committed (merged with the commits not yet notified).
    pub(super) fn committed(&self, segment: SegmentId) {
        self.latest.send_replace(Some(segment));
    }
}

/// Sends one `NOTIFY` for the latest commit each time there are new ones,
/// at most one every [`NOTIFY_INTERVAL`], until the [`Notifier`] is
/// dropped. A failed `NOTIFY` is only logged: listeners also poll.
async fn notify_commits(pool: PgPool, mut latest: watch::Receiver<Option<SegmentId>>) {
    while latest.changed().await.is_ok() {
        let Some(segment) = *latest.borrow_and_update() else {
            continue;
        };
        if pool.is_closed() {
            continue;
        }
        if let Err(error) = sqlx::query(COMMIT_NOTIFY)
            .bind(segment.to_string())
            .execute(&pool)
            .await
        {
            tracing::debug!(%error, %segment, "commit notification not sent");
        }
        tokio::time::sleep(NOTIFY_INTERVAL).await;
    }
}

/// `application_name` of the listening connections, to tell them apart in
/// `pg_stat_activity`.
const APPLICATION_NAME: &str = "floe-notifications";

/// How a stream connects again after a failure.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reconnect {
    /// How long one attempt to connect may keep retrying a server that
    /// refuses connections (it is restarting) before it counts as failed.
    pub(super) connect_timeout: Duration,
    /// The wait after the first failure in a row.
    pub(super) min_backoff: Duration,
    /// The longest wait between two attempts; the wait doubles up to it.
    pub(super) max_backoff: Duration,
}

impl Reconnect {
    /// What the store uses.
    pub(super) const DEFAULT: Reconnect = Reconnect {
        connect_timeout: Duration::from_secs(10),
        min_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(2),
    };
}

/// Connects a listener to the store's database and returns the stream of
/// its notifications. It listens before this returns, so every commit that
/// ends after it is seen (unless the connection fails). The stream ends
/// when the store is closed, or dropped with all its clones; dropping the
/// stream closes its connection.
pub(super) async fn subscribe(store: &PgPool, reconnect: Reconnect) -> Result<CommitNotifications> {
    let options = (*store.connect_options())
        .clone()
        .application_name(APPLICATION_NAME);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(reconnect.connect_timeout)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(options);
    let mut listener = Listener {
        pool,
        connection: None,
        reconnect,
        backoff: reconnect.min_backoff,
    };
    listener.connect().await?;
    let subscription = Subscription {
        store_closed: store.close_event(),
        listener,
    };
    Ok(futures::stream::unfold(subscription, Subscription::next).boxed())
}

/// The state of a notification stream.
struct Subscription {
    /// Fires when the store's pool closes: the stream then ends.
    store_closed: CloseEvent,
    listener: Listener,
}

impl Subscription {
    /// The next item: `None` once the store is closed.
    async fn next(mut self) -> Option<(StoreEvent, Subscription)> {
        tokio::select! {
            biased;
            () = &mut self.store_closed => None,
            event = self.listener.recv() => Some((event, self)),
        }
    }
}

/// A listening connection that connects again when it fails.
struct Listener {
    /// The private pool of one connection the listener draws from.
    pool: PgPool,
    /// The listening connection; `None` after a failure.
    connection: Option<PgListener>,
    /// How to connect again after a failure.
    reconnect: Reconnect,
    /// The wait before the next attempt after a failure.
    backoff: Duration,
}

impl Listener {
    /// Connects and listens on [`CHANNEL`] and [`TOPICS_CHANNEL`].
    async fn connect(&mut self) -> Result<()> {
        let mut connection = PgListener::connect_with(&self.pool).await?;
        connection.listen_all([CHANNEL, TOPICS_CHANNEL]).await?;
        self.connection = Some(connection);
        Ok(())
    }

    /// Waits for the next event, connecting again as often as it takes. A
    /// lost connection (which `PgListener::try_recv` reports rather than
    /// hide) or any error drops the connection, waits, and starts afresh;
    /// once listening again the stream says so ([`StoreEvent::Resumed`]):
    /// what was sent in the gap is lost.
    async fn recv(&mut self) -> StoreEvent {
        loop {
            let error = match &mut self.connection {
                Some(connection) => match connection.try_recv().await {
                    Ok(Some(notification)) => {
                        self.backoff = self.reconnect.min_backoff;
                        return if notification.channel() == TOPICS_CHANNEL {
                            StoreEvent::TopicChanged(notification.payload().to_string())
                        } else {
                            StoreEvent::Committed
                        };
                    }
                    Ok(None) => MetadataError::connection_lost("the listening connection closed"),
                    Err(error) => MetadataError::from(error),
                },
                None => match self.connect().await {
                    Ok(()) => {
                        tracing::info!("store notifications: listening again");
                        return StoreEvent::Resumed;
                    }
                    Err(error) => error,
                },
            };
            tracing::warn!(
                %error,
                retry_in = ?self.backoff,
                "store notifications: connection failed, notifications are lost until it is back"
            );
            self.connection = None;
            tokio::time::sleep(self.backoff).await;
            self.backoff = (self.backoff * 2).min(self.reconnect.max_backoff);
        }
    }
}

impl Drop for Listener {
    /// Closes the connection politely (`UNLISTEN`, then a terminate message)
    /// in a background task. Like every sqlx connection, the stream must be
    /// dropped inside the Tokio runtime.
    fn drop(&mut self) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let connection = self.connection.take();
            let pool = self.pool.clone();
            runtime.spawn(async move {
                // Its own drop hands the connection back to the pool.
                drop(connection);
                pool.close().await;
            });
        }
    }
}
