//! The worker's settings file: where the policy and the store are, how to
//! reach Microsoft Graph and ServiceNow, what to take in and how often.
//! Secrets never come from it: they come from the environment, as the
//! adapters' own settings say.
//!
//! ```yaml
//! policy: policy.yaml              # relative to this file
//! store:
//!   path: /var/lib/groupgate/groupgate.db
//!   durability: full               # or normal
//! graph:                           # the Graph settings (docs/adapters/graph.md) inline,
//!   tenant_id: contoso.onmicrosoft.com
//!   client_id: 00000000-0000-0000-0000-000000000001
//! servicenow:                      # or in a file of their own: {file: servicenow.yaml}
//!   instance_url: https://contoso.service-now.com
//!   user: groupgate.integration
//! intake:
//!   catalog_items: [c0000000000000000000000000000001]
//!   poll_seconds: 60
//! worker:
//!   pass_seconds: 30
//! listen: 127.0.0.1:8080           # Slack's and Teams' callbacks (behind your TLS proxy)
//! chat:                            # approvals in Teams and Slack (docs/adapters/teams.md, slack.md)
//!   ticket_url: https://contoso.service-now.com/nav_to.do?uri=sc_req_item.do?sysparm_query=number={ticket}
//!   slack:
//!     channel: C0123456789
//! ```

use crate::ServiceError;
use crate::chat::ChatSettings;
use groupgate_core::input::{Limits, from_yaml};
use groupgate_sqlite::Durability;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The settings, as read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings {
    /// The policy file (YAML or JSON).
    pub policy: PathBuf,
    /// The store.
    pub store: StoreSettings,
    /// Microsoft Graph: its settings inline, or `{file: PATH}`.
    pub graph: AdapterSettings,
    /// ServiceNow: its settings inline, or `{file: PATH}`.
    pub servicenow: AdapterSettings,
    /// What to take in.
    #[serde(default)]
    pub intake: IntakeSettings,
    /// The loop.
    #[serde(default)]
    pub worker: WorkerSettings,
    /// The state machine's tunables for workflows started from now on.
    #[serde(default)]
    pub workflow: WorkflowTuning,
    /// Where the worker listens for Slack's and Teams' callbacks
    /// (`127.0.0.1:8080`); no listener when absent. Put it behind a TLS
    /// terminating proxy: Slack and Teams only call https.
    #[serde(default)]
    pub listen: Option<String>,
    /// Approvals in Teams and Slack.
    #[serde(default)]
    pub chat: Option<ChatSettings>,
    /// Where the audit trail is copied as it grows.
    #[serde(default)]
    pub audit: AuditSettings,
    /// Leavers found in the directory (the users delta query); off when
    /// absent.
    #[serde(default)]
    pub leavers: Option<crate::LeaverSettings>,
    /// The periodic drift report; off when absent (`groupgate drift` runs
    /// it on demand).
    #[serde(default)]
    pub drift: Option<crate::DriftSettings>,
    /// Reminders before time-bound access ends; off when absent.
    #[serde(default)]
    pub reminders: Option<crate::ReminderSettings>,
}

/// Retry, read-back and watchdog timing; anything left out keeps the
/// default (see `groupgate_core::workflow::WorkflowSettings`). Each
/// workflow keeps the settings it started with.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowTuning {
    /// Attempts of an effect that fails transiently, the first included (default 6).
    pub retry_attempts: Option<u32>,
    /// The first backoff ceiling in seconds, doubling per attempt (default 2).
    pub retry_base_seconds: Option<u64>,
    /// The largest backoff ceiling in seconds (default 300).
    pub retry_max_delay_seconds: Option<u64>,
    /// Give up retrying this long after the first failure (default 3600).
    pub retry_deadline_seconds: Option<u64>,
    /// How long an add or removal may take to show in the directory (default 300).
    pub verify_timeout_seconds: Option<u64>,
    /// How often it is read back meanwhile (default 10).
    pub verify_poll_seconds: Option<u64>,
    /// How long a workflow waiting on the outside world may go unvisited (default 900).
    pub watchdog_seconds: Option<u64>,
}

impl WorkflowTuning {
    /// The settings: the defaults with what is given.
    pub fn settings(&self) -> groupgate_core::workflow::WorkflowSettings {
        let mut s = groupgate_core::workflow::WorkflowSettings::default();
        let set = |slot: &mut u64, value: Option<u64>| {
            if let Some(v) = value {
                *slot = v;
            }
        };
        if let Some(a) = self.retry_attempts {
            s.retry.max_attempts = a.max(1);
        }
        set(&mut s.retry.base_seconds, self.retry_base_seconds);
        set(&mut s.retry.max_delay_seconds, self.retry_max_delay_seconds);
        set(&mut s.retry.deadline_seconds, self.retry_deadline_seconds);
        set(&mut s.verify_timeout_seconds, self.verify_timeout_seconds);
        set(&mut s.verify_poll_seconds, self.verify_poll_seconds);
        set(&mut s.watchdog_seconds, self.watchdog_seconds);
        s
    }
}

/// Where the store is and how durable each step is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// The SQLite file (created when missing).
    pub path: PathBuf,
    /// `full` (default) or `normal`; see `groupgate_sqlite::Durability`.
    #[serde(default)]
    pub durability: DurabilitySetting,
}

/// `full` or `normal`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DurabilitySetting {
    /// Every step survives power loss.
    #[default]
    Full,
    /// Every step survives a crash; the last ones may not survive power loss.
    Normal,
}

impl From<DurabilitySetting> for Durability {
    fn from(d: DurabilitySetting) -> Self {
        match d {
            DurabilitySetting::Full => Durability::Full,
            DurabilitySetting::Normal => Durability::Normal,
        }
    }
}

/// An adapter's settings: a mapping as its own settings file would hold
/// it, or `{file: PATH}` naming that file.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct AdapterSettings(pub serde_json::Map<String, serde_json::Value>);

/// The audit trail's copy for a SIEM.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// A file each record is appended to as one JSON line after every pass
    /// (the same lines as `groupgate audit export`, so the file verifies
    /// with `groupgate audit verify`), or `-` for standard output (from the
    /// trail's end at start-up on).
    #[serde(default)]
    pub sink: Option<PathBuf>,
}

/// New requested items to take in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeSettings {
    /// The catalog items (sc_cat_item sys_ids) whose new RITMs are polled;
    /// empty: no polling (RITMs come in through the event listener only).
    #[serde(default)]
    pub catalog_items: Vec<String>,
    /// Seconds between polls.
    #[serde(default = "sixty")]
    pub poll_seconds: u64,
    /// Take signed events on the listener: `POST /servicenow/ritm` (a
    /// business rule's "RITM created") and `POST /offboard`, signed with
    /// `GROUPGATE_WEBHOOK_SECRET`.
    #[serde(default)]
    pub webhook: bool,
}

impl Default for IntakeSettings {
    fn default() -> Self {
        Self {
            catalog_items: Vec::new(),
            poll_seconds: 60,
            webhook: false,
        }
    }
}

fn sixty() -> u64 {
    60
}

/// The loop's pace.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    /// Seconds between passes (answers, due timers, the offboarding queue).
    /// Fractions are allowed (`0.2`), for tests.
    #[serde(default = "thirty")]
    pub pass_seconds: f64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self { pass_seconds: 30.0 }
    }
}

fn thirty() -> f64 {
    30.0
}

impl ServiceSettings {
    /// Reads and checks the settings file at `path`; relative paths in it
    /// are taken from the file's folder.
    pub fn load(path: &Path) -> Result<Self, ServiceError> {
        let text = std::fs::read_to_string(path).map_err(|e| ServiceError::Settings {
            file: path.to_owned(),
            message: format!("cannot be read: {e}"),
        })?;
        Self::parse(&text, path)
    }

    /// Parses settings text; `origin` names it in errors and anchors its
    /// relative paths.
    pub fn parse(text: &str, origin: &Path) -> Result<Self, ServiceError> {
        if text.trim().is_empty() {
            return Err(ServiceError::Settings {
                file: origin.to_owned(),
                message: "is empty; it needs at least `policy`, `store`, `graph` and `servicenow` (see docs/operations.md)".to_owned(),
            });
        }
        let mut settings: Self =
            from_yaml(text, &Limits::small()).map_err(|e| ServiceError::Settings {
                file: origin.to_owned(),
                message: format!("{e} (see docs/operations.md for the settings)"),
            })?;
        let base = origin.parent().unwrap_or(Path::new("."));
        settings.policy = base.join(&settings.policy);
        settings.store.path = base.join(&settings.store.path);
        if let Some(sink) = &settings.audit.sink
            && sink.as_os_str() != "-"
        {
            settings.audit.sink = Some(base.join(sink));
        }
        for adapter in [&mut settings.graph, &mut settings.servicenow] {
            if let Some(serde_json::Value::String(file)) = adapter.0.get("file") {
                let joined = base.join(file).to_string_lossy().into_owned();
                adapter
                    .0
                    .insert("file".to_owned(), serde_json::Value::String(joined));
            }
        }
        let pass = settings.worker.pass_seconds;
        if !(pass.is_finite() && (0.01..=3600.0).contains(&pass)) {
            return Err(ServiceError::Settings {
                file: origin.to_owned(),
                message: format!("`worker.pass_seconds` is {pass}; use 0.01 to 3600"),
            });
        }
        if settings.intake.poll_seconds == 0 || settings.intake.poll_seconds > 86_400 {
            return Err(ServiceError::Settings {
                file: origin.to_owned(),
                message: format!(
                    "`intake.poll_seconds` is {}; use 1 to 86400",
                    settings.intake.poll_seconds
                ),
            });
        }
        if let Some(listen) = &settings.listen
            && listen.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(ServiceError::Settings {
                file: origin.to_owned(),
                message: format!(
                    "`listen` is `{listen}`; give an address and port such as `127.0.0.1:8080` (port 0 picks a free one)"
                ),
            });
        }
        if let Some(l) = &settings.leavers
            && !(60..=86_400).contains(&l.poll_seconds)
        {
            return Err(ServiceError::Settings {
                file: origin.to_owned(),
                message: format!(
                    "`leavers.poll_seconds` is {}; use 60 to 86400",
                    l.poll_seconds
                ),
            });
        }
        if let Some(d) = &settings.drift
            && (!(3_600..=604_800).contains(&d.poll_seconds) || d.max_members == 0)
        {
            return Err(ServiceError::Settings {
                file: origin.to_owned(),
                message: format!(
                    "`drift.poll_seconds` is {} and `drift.max_members` {}; use 3600 to 604800 seconds and at least 1 member",
                    d.poll_seconds, d.max_members
                ),
            });
        }
        if let Some(r) = &settings.reminders
            && !(3_600..=90 * 86_400).contains(&r.before_seconds)
        {
            return Err(ServiceError::Settings {
                file: origin.to_owned(),
                message: format!(
                    "`reminders.before_seconds` is {}; use 3600 (an hour) to 7776000 (90 days)",
                    r.before_seconds
                ),
            });
        }
        if settings.intake.webhook && settings.listen.is_none() {
            return Err(ServiceError::Settings {
                file: origin.to_owned(),
                message: "`intake.webhook` is on but `listen` is not set; events are posted to the worker's listener (set `listen: 127.0.0.1:8080`)".to_owned(),
            });
        }
        if let Some(chat) = &settings.chat {
            chat.check().map_err(|message| ServiceError::Settings {
                file: origin.to_owned(),
                message,
            })?;
            if (chat.teams.is_some() || chat.slack.is_some()) && settings.listen.is_none() {
                return Err(ServiceError::Settings {
                    file: origin.to_owned(),
                    message: "`chat` is set but `listen` is not; Slack and Teams send approvers' clicks to the worker's listener (set `listen: 127.0.0.1:8080`)".to_owned(),
                });
            }
        }
        Ok(settings)
    }
}

impl AdapterSettings {
    /// An adapter's settings error, placed in the worker's settings file
    /// when the settings are inline there: the line and column of the
    /// setting it names (the first `word` in backticks under `section`), or
    /// of the section. Settings in a file of their own, and errors about
    /// the environment, are returned as they are.
    pub(crate) fn locate(&self, error: ServiceError, section: &str, origin: &Path) -> ServiceError {
        if self.0.contains_key("file") {
            return error;
        }
        let message = error.to_string();
        let Ok(text) = std::fs::read_to_string(origin) else {
            return error;
        };
        let locator = groupgate_core::input::Locator::new(&text, &Limits::small());
        let named = message.split('`').skip(1).step_by(2).find_map(|word| {
            locator
                .find_exact(&format!("{section}.{word}"))
                .map(|l| (word, l))
        });
        let (path, at) = match named {
            Some((word, at)) => (format!("{section}.{word}"), at),
            None => match locator.find_exact(section) {
                Some(at) => (section.to_owned(), at),
                None => return error,
            },
        };
        ServiceError::Settings {
            file: origin.to_owned(),
            message: format!(
                "line {}, column {}: `{path}`: {message}",
                at.line, at.column
            ),
        }
    }

    /// The adapter's settings text: the named file's, or the inline mapping
    /// as JSON (which the adapters' settings readers take too).
    pub fn text(&self, name: &str, origin: &Path) -> Result<String, ServiceError> {
        match self.0.get("file") {
            Some(serde_json::Value::String(file)) if self.0.len() == 1 => {
                std::fs::read_to_string(file).map_err(|e| ServiceError::Settings {
                    file: origin.to_owned(),
                    message: format!("`{name}.file`: `{file}` cannot be read: {e}"),
                })
            }
            Some(_) => Err(ServiceError::Settings {
                file: origin.to_owned(),
                message: format!(
                    "`{name}`: give either `file: PATH` alone or the settings inline, not both"
                ),
            }),
            None => serde_json::to_string(&self.0).map_err(|e| ServiceError::Settings {
                file: origin.to_owned(),
                message: format!("`{name}`: {e}"),
            }),
        }
    }
}
