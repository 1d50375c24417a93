//! The topic catalogue as one agent sees it: a cache over the metadata
//! store, with auto-creation of unknown topics.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use floe_metadata::{MetadataError, MetadataStore, NewTopic, Topic, TopicId};

use crate::error::Result;

/// Topic lookups for the request handlers. Positive answers are cached: a
/// topic's id does not change while it exists, its partition count only
/// through CreatePartitions. Entries are dropped when the topic is deleted
/// or grown here, when the store tells of such a change through another
/// agent (Postgres `NOTIFY`; all of them when
/// notifications were lost), and when a commit or read finds its id gone.
#[derive(Debug)]
pub struct Topics {
    store: Arc<dyn MetadataStore>,
    by_name: RwLock<HashMap<String, Arc<Topic>>>,
    auto_create: bool,
    default_partitions: i32,
}

impl Topics {
    /// A catalogue over `store`.
    pub fn new(store: Arc<dyn MetadataStore>, auto_create: bool, default_partitions: i32) -> Self {
        Self {
            store,
            by_name: RwLock::default(),
            auto_create,
            default_partitions,
        }
    }

    /// Partitions given to topics created without a count.
    pub fn default_partitions(&self) -> i32 {
        self.default_partitions
    }

    fn cached(&self, name: &str) -> Option<Arc<Topic>> {
        self.by_name.read().ok()?.get(name).cloned()
    }

    fn remember(&self, topic: Topic) -> Arc<Topic> {
        let topic = Arc::new(topic);
        if let Ok(mut map) = self.by_name.write() {
            map.insert(topic.name.clone(), topic.clone());
        }
        topic
    }

    /// Drops a cached topic so the next lookup asks the store.
    pub fn forget(&self, name: &str) {
        if let Ok(mut map) = self.by_name.write() {
            map.remove(name);
        }
    }

    /// Drops every cached topic: the store's notifications were lost, so
    /// any of them may have been deleted or recreated meanwhile.
    pub fn forget_all(&self) {
        if let Ok(mut map) = self.by_name.write() {
            map.clear();
        }
    }

    /// The topic named `name`, if it exists.
    pub async fn get(&self, name: &str) -> Result<Option<Arc<Topic>>> {
        if let Some(t) = self.cached(name) {
            return Ok(Some(t));
        }
        Ok(self
            .store
            .topic_by_name(name)
            .await?
            .map(|t| self.remember(t)))
    }

    /// The topic with id `id`, if it exists.
    pub async fn get_by_id(&self, id: TopicId) -> Result<Option<Arc<Topic>>> {
        Ok(self.store.topic_by_id(id).await?.map(|t| self.remember(t)))
    }

    /// Whether topics a client asks for are created when missing
    /// (`auto_create_topics`).
    pub fn auto_creates(&self) -> bool {
        self.auto_create
    }

    /// The topic named `name`, created with the default partition count if
    /// it does not exist, auto-creation is on, and the client allows it.
    pub async fn get_or_create(
        &self,
        name: &str,
        client_allows: bool,
    ) -> Result<Option<Arc<Topic>>> {
        if let Some(t) = self.get(name).await? {
            return Ok(Some(t));
        }
        if !(self.auto_create && client_allows) {
            return Ok(None);
        }
        let spec = NewTopic {
            name: name.to_string(),
            partitions: self.default_partitions,
            config: Default::default(),
        };
        match self.store.create_topic(spec).await {
            Ok(t) => {
                tracing::info!(
                    topic = name,
                    partitions = t.partitions,
                    "auto-created topic"
                );
                Ok(Some(self.remember(t)))
            }
            // Another connection or agent created it first.
            Err(MetadataError::TopicExists(_)) => self.get(name).await,
            Err(e) => Err(e.into()),
        }
    }

    /// Creates a topic.
    pub async fn create(&self, spec: NewTopic) -> Result<Arc<Topic>> {
        let t = self.store.create_topic(spec).await?;
        Ok(self.remember(t))
    }

    /// Grows a topic to `count` partitions and caches it as it now is, so
    /// this agent routes to the new partitions at once (other agents hear
    /// of it through the store's notifications).
    pub async fn create_partitions(&self, topic: &Topic, count: i32) -> Result<Arc<Topic>> {
        self.forget(&topic.name);
        let grown = self.store.create_partitions(topic.id, count).await?;
        Ok(self.remember(grown))
    }

    /// The topic named `name` as the store has it now, bypassing the cache
    /// (which it refreshes): what an admin change is checked against.
    pub async fn fresh(&self, name: &str) -> Result<Option<Arc<Topic>>> {
        self.forget(name);
        self.get(name).await
    }

    /// Replaces a topic's config overrides. The cached copy is dropped at
    /// once; other agents drop theirs when the store tells them.
    pub async fn set_config(
        &self,
        topic: &Topic,
        config: &std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        let result = self.store.set_topic_config(topic.id, config).await;
        self.forget(&topic.name);
        Ok(result?)
    }

    /// Deletes a topic.
    pub async fn delete(&self, topic: &Topic) -> Result<()> {
        self.forget(&topic.name);
        self.store.delete_topic(topic.id).await?;
        Ok(())
    }

    /// All topics; the cache is rebuilt from the answer, which also drops
    /// topics deleted through other agents.
    pub async fn list(&self) -> Result<Vec<Arc<Topic>>> {
        let topics: Vec<Arc<Topic>> = self
            .store
            .list_topics()
            .await?
            .into_iter()
            .map(Arc::new)
            .collect();
        if let Ok(mut map) = self.by_name.write() {
            *map = topics.iter().map(|t| (t.name.clone(), t.clone())).collect();
        }
        Ok(topics)
    }
}
