//! This agent's membership in the cluster: it registers in the metadata
//! store, heartbeats, and keeps a fresh list of the live agents for
//! Metadata answers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use floe_metadata::MetadataStore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::routing::AgentAddress;
use crate::config::listeners::{Advertised, format_advertised, parse_advertised};
use crate::error::{AgentError, Result};

/// Longest wait for the deregistration at shutdown.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(3);

/// How often the agent heartbeats and refreshes its view.
#[derive(Debug, Clone, Copy)]
pub struct RegistrySettings {
    /// Time between heartbeats.
    pub heartbeat_interval: Duration,
    /// An agent silent for longer is left out of Metadata answers.
    pub agent_timeout: Duration,
}

/// The cluster as this agent last saw it.
#[derive(Debug)]
pub struct Registry {
    me: RwLock<AgentAddress>,
    live: RwLock<Vec<AgentAddress>>,
    /// Set once this agent left the registry at shutdown: it no longer
    /// names itself to clients while others are alive.
    leaving: AtomicBool,
}

impl Registry {
    /// This agent.
    pub fn me(&self) -> AgentAddress {
        self.me
            .read()
            .map(|m| m.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The live agents, ordered by node id: always including this one,
    /// unless it is leaving and others are alive (then clients, partition
    /// leadership and groups go to those).
    pub fn live(&self) -> Vec<AgentAddress> {
        let mut agents = self.live.read().map(|l| l.clone()).unwrap_or_default();
        let me = self.me();
        if self.leaving.load(Ordering::Acquire) {
            agents.retain(|a| a.node_id != me.node_id);
            if !agents.is_empty() {
                return agents;
            }
        }
        if !agents.iter().any(|a| a.node_id == me.node_id) {
            agents.push(me);
            agents.sort_by_key(|a| a.node_id);
        }
        agents
    }
}

/// The heartbeat task of a [`Registry`].
#[derive(Debug)]
pub struct Membership {
    task: JoinHandle<()>,
    stop: CancellationToken,
    store: Arc<dyn MetadataStore>,
    registry: Arc<Registry>,
}

impl Membership {
    /// Registers this agent and starts heartbeating.
    pub async fn join(
        store: Arc<dyn MetadataStore>,
        advertised: Vec<Advertised>,
        zone: Option<String>,
        settings: RegistrySettings,
    ) -> Result<Self> {
        // The first listener's address doubles as the agent's plain
        // host:port, for agents that predate listeners.
        let (host, port) = advertised
            .first()
            .map(|a| (a.host.clone(), a.port))
            .ok_or_else(|| AgentError::Config("no listener to advertise".into()))?;
        let listeners = format_advertised(&advertised);
        let node_id = store
            .register_agent(&host, port, zone.as_deref(), &listeners)
            .await?;
        info!(node_id, %host, port, ?zone, %listeners, "registered agent");
        let me = AgentAddress {
            node_id,
            host,
            port,
            zone,
            listeners: advertised,
        };
        let registry = Arc::new(Registry {
            me: RwLock::new(me.clone()),
            live: RwLock::new(vec![me]),
            leaving: AtomicBool::new(false),
        });
        refresh(&*store, &registry, settings).await;
        let stop = CancellationToken::new();
        let task = tokio::spawn(heartbeat_loop(
            store.clone(),
            registry.clone(),
            settings,
            stop.clone(),
        ));
        Ok(Self {
            task,
            stop,
            store,
            registry,
        })
    }

    /// The view of the cluster this membership keeps fresh.
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.clone()
    }

    /// Stops heartbeating and removes the registration, so clients stop
    /// being sent here at once rather than after the timeout.
    /// Bounded: with the store unreachable, the agent still exits promptly
    /// and simply times out of the other agents' view.
    pub async fn leave(self) {
        self.registry.leaving.store(true, Ordering::Release);
        self.stop.cancel();
        let _ = self.task.await;
        let node_id = self.registry.me().node_id;
        match tokio::time::timeout(LEAVE_TIMEOUT, self.store.deregister_agent(node_id)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(node_id, error = %e, "could not deregister agent"),
            Err(_) => warn!(node_id, "deregistering timed out; the agent will expire"),
        }
    }
}

async fn heartbeat_loop(
    store: Arc<dyn MetadataStore>,
    registry: Arc<Registry>,
    settings: RegistrySettings,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(settings.heartbeat_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.cancelled() => return,
        }
        // A heartbeat stuck on an unreachable store must not hold up shutdown.
        let beat = async {
            let me = registry.me();
            match store.heartbeat_agent(me.node_id).await {
                Ok(true) => {}
                Ok(false) => rejoin(&*store, &registry, me).await,
                Err(e) => warn!(node_id = me.node_id, error = %e, "heartbeat failed"),
            }
            refresh(&*store, &registry, settings).await;
        };
        tokio::select! {
            _ = beat => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// Registers again under a new node id after the registration vanished.
async fn rejoin(store: &dyn MetadataStore, registry: &Registry, me: AgentAddress) {
    match store
        .register_agent(
            &me.host,
            me.port,
            me.zone.as_deref(),
            &format_advertised(&me.listeners),
        )
        .await
    {
        Ok(node_id) => {
            warn!(
                old = me.node_id,
                new = node_id,
                "registration was gone; registered again"
            );
            if let Ok(mut m) = registry.me.write() {
                m.node_id = node_id;
            }
        }
        Err(e) => warn!(error = %e, "re-registration failed"),
    }
}

async fn refresh(store: &dyn MetadataStore, registry: &Registry, settings: RegistrySettings) {
    match store.live_agents(settings.agent_timeout).await {
        Ok(agents) => {
            let live = agents
                .into_iter()
                .map(|a| AgentAddress {
                    node_id: a.node_id,
                    host: a.host,
                    port: a.port,
                    zone: a.zone,
                    listeners: stored_listeners(a.node_id, &a.listeners),
                })
                .collect();
            if let Ok(mut l) = registry.live.write() {
                *l = live;
            }
        }
        Err(e) => warn!(error = %e, "cannot list live agents"),
    }
}

/// An agent's stored listeners; an unreadable entry (written by a newer
/// agent, say) leaves only its plain `host:port`.
fn stored_listeners(node_id: i32, stored: &str) -> Vec<Advertised> {
    if stored.is_empty() {
        return Vec::new();
    }
    parse_advertised(stored).unwrap_or_else(|e| {
        warn!(node_id, error = %e, "agent advertises unreadable listeners");
        Vec::new()
    })
}
