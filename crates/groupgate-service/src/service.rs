//! Building the engine, its adapters and its store from the settings.

use crate::{ServiceError, ServiceSettings};
use groupgate_core::ports::ApprovalChannel;
use groupgate_core::ports::SystemClock;
use groupgate_engine::{Channels, Engine, Ports};
use groupgate_graph::{GraphClient, GraphConfig};
use groupgate_servicenow::{ServiceNowClient, ServiceNowConfig};
use groupgate_sqlite::{SqliteOptions, SqliteStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The engine over Microsoft Graph, ServiceNow and the SQLite store, as the
/// settings describe them.
#[derive(Debug)]
pub struct Service {
    pub(crate) engine: Engine,
    pub(crate) servicenow: Arc<ServiceNowClient>,
    pub(crate) store: Arc<SqliteStore>,
    pub(crate) settings: ServiceSettings,
    pub(crate) origin: PathBuf,
    pub(crate) intake_memory: crate::worker::IntakeMemory,
    pub(crate) chat: crate::chat::Chat,
    pub(crate) refusals: crate::http::RefusalLimiter,
    pub(crate) in_flight: crate::http::InFlight,
    /// The key of signed events, when `intake.webhook` is on.
    pub(crate) webhook: Option<crate::WebhookKey>,
    /// When the last pass ended (for `/readyz`).
    pub(crate) last_pass: std::sync::Mutex<Option<std::time::Instant>>,
    /// The policy file's modification time and size when last read.
    pub(crate) policy_stamp: std::sync::Mutex<crate::reload::Stamp>,
    /// Reloads refused since start.
    pub(crate) policy_reload_failures: std::sync::atomic::AtomicU64,
    /// Gauge labels reported at `/metrics`.
    pub(crate) seen_phases: crate::metrics::SeenPhases,
    /// The trail's copy, when `audit.sink` is set.
    pub(crate) audit_sink: Option<crate::sink::AuditSink>,
    /// The directory adapter itself (for the users delta).
    pub(crate) graph: Arc<GraphClient>,
    /// When leavers were last looked for.
    pub(crate) last_leaver_scan: std::sync::Mutex<Option<std::time::Instant>>,
    /// When drift was last reported.
    pub(crate) last_drift: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Service {
    /// Reads the settings file at `path` and builds everything; secrets come
    /// from the environment.
    pub fn from_settings_file(path: &Path) -> Result<Self, ServiceError> {
        let settings = ServiceSettings::load(path)?;
        Self::build(settings, path, |k| std::env::var(k).ok())
    }

    /// Builds from settings already read; `var` reads the environment.
    pub fn build(
        settings: ServiceSettings,
        origin: &Path,
        var: impl Fn(&str) -> Option<String> + Copy,
    ) -> Result<Self, ServiceError> {
        Self::build_with_clock(settings, origin, var, Arc::new(SystemClock))
    }

    /// [`Service::build`] on another clock than the system's (a simulated
    /// one in tests: timers such as an expiry fire when it says so).
    pub fn build_with_clock(
        settings: ServiceSettings,
        origin: &Path,
        var: impl Fn(&str) -> Option<String> + Copy,
        clock: Arc<dyn groupgate_core::ports::Clock>,
    ) -> Result<Self, ServiceError> {
        let policy = crate::reload::load_policy(&settings.policy, origin)?;
        let settings_sink = settings
            .audit
            .sink
            .as_deref()
            .map(crate::sink::AuditSink::new);
        let policy_stamp = std::sync::Mutex::new(crate::reload::stamp(&settings.policy));
        let graph_text = settings.graph.text("graph", origin)?;
        let graph = GraphConfig::from_file_and_vars(Some(&graph_text), var)
            .map_err(ServiceError::from)
            .and_then(|c| GraphClient::new(c).map_err(ServiceError::from))
            .map_err(|e| settings.graph.locate(e, "graph", origin))?;
        let snow_text = settings.servicenow.text("servicenow", origin)?;
        let servicenow = ServiceNowConfig::from_file_and_vars(Some(&snow_text), var)
            .map_err(ServiceError::from)
            .and_then(|c| ServiceNowClient::new(c).map_err(ServiceError::from))
            .map_err(|e| settings.servicenow.locate(e, "servicenow", origin))?;
        let servicenow = Arc::new(servicenow);
        let graph = Arc::new(graph);
        let store = Arc::new(SqliteStore::open(
            &settings.store.path,
            SqliteOptions {
                durability: settings.store.durability.into(),
                ..SqliteOptions::default()
            },
        )?);
        let chat = match &settings.chat {
            Some(c) => crate::chat::build(
                c,
                Arc::new(crate::chat::StoreLedger(store.clone())),
                origin,
                var,
            )?,
            None => crate::chat::Chat::default(),
        };
        let webhook = if settings.intake.webhook {
            let secret = var("GROUPGATE_WEBHOOK_SECRET")
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| ServiceError::Settings {
                    file: origin.to_owned(),
                    message: "`intake.webhook` is on but `GROUPGATE_WEBHOOK_SECRET` is not set in the environment; it signs ServiceNow's notifications and offboarding requests (at least 32 random bytes, e.g. `openssl rand -base64 48`)".to_owned(),
                })?;
            Some(
                crate::WebhookKey::new(groupgate_core::Secret::new(secret)).map_err(|message| {
                    ServiceError::Settings {
                        file: origin.to_owned(),
                        message,
                    }
                })?,
            )
        } else {
            None
        };
        // ServiceNow stays the record of every approval; Teams and Slack
        // are asked beside it where the policy names them.
        let approvals: Arc<dyn ApprovalChannel> = if chat.channels.is_empty() {
            servicenow.clone()
        } else {
            let mut channels = Channels::new().with("servicenow", servicenow.clone());
            for (name, channel) in &chat.channels {
                channels = channels.with(name, channel.clone());
            }
            Arc::new(channels)
        };
        let ports = Ports {
            identity: graph.clone(),
            tickets: servicenow.clone(),
            approvals,
            store: store.clone(),
            clock,
        };
        Ok(Self {
            engine: Engine::new(policy, ports).with_settings(settings.workflow.settings()),
            servicenow,
            store,
            settings,
            origin: origin.to_owned(),
            intake_memory: Default::default(),
            chat,
            refusals: Default::default(),
            in_flight: Default::default(),
            webhook,
            last_pass: Default::default(),
            policy_stamp,
            policy_reload_failures: Default::default(),
            seen_phases: Default::default(),
            audit_sink: settings_sink,
            graph,
            last_leaver_scan: Default::default(),
            last_drift: Default::default(),
        })
    }

    /// The engine, for reading workflows.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The store.
    pub fn store(&self) -> &SqliteStore {
        &self.store
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &ServiceSettings {
        &self.settings
    }

    /// The settings file.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// The approval channels in use, by name (`servicenow`, then `teams`
    /// and `slack` when configured).
    pub fn approval_channels(&self) -> Vec<&'static str> {
        std::iter::once("servicenow")
            .chain(self.chat.channels.iter().map(|(n, _)| *n))
            .collect()
    }
}
