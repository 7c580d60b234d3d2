//! Policy reload without a restart: on `SIGHUP` (the CLI's worker) and
//! whenever a pass finds the policy file changed, the file is read,
//! compiled and linted; it is put in force only when it compiles without
//! error, otherwise the policy in force stays and the failure is logged,
//! counted and recorded in the audit trail.

use crate::{Service, ServiceError};
use groupgate_core::CompiledPolicy;
use std::path::Path;
use std::time::SystemTime;
use tracing::{info, warn};

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyReload {
    /// The file means the same policy (same digest): nothing changed.
    Unchanged {
        /// The digest in force.
        digest: String,
    },
    /// The new policy is in force.
    Replaced {
        /// The digest it replaced.
        from: String,
        /// The digest now in force.
        to: String,
        /// Lint warnings about the new policy (it is in force regardless).
        warnings: Vec<String>,
    },
    /// The file does not compile: the policy in force stays.
    Refused {
        /// The digest still in force.
        digest: String,
        /// Why, with file, line and field.
        error: String,
    },
}

/// Reads and compiles the policy file at `path` (YAML, or JSON by its
/// `.json` name); `origin` is the settings file, for the error.
pub(crate) fn load_policy(path: &Path, origin: &Path) -> Result<CompiledPolicy, ServiceError> {
    let text = std::fs::read_to_string(path).map_err(|e| ServiceError::Settings {
        file: origin.to_owned(),
        message: format!("`policy`: {} cannot be read: {e}", path.display()),
    })?;
    let name = path.to_string_lossy().into_owned();
    Ok(if name.ends_with(".json") {
        CompiledPolicy::from_json_str(&text, &name)?
    } else {
        CompiledPolicy::from_yaml_str(&text, &name)?
    })
}

/// What identifies a version of the file without reading it.
pub(crate) type Stamp = Option<(SystemTime, u64)>;

pub(crate) fn stamp(path: &Path) -> Stamp {
    std::fs::metadata(path)
        .ok()
        .and_then(|m| Some((m.modified().ok()?, m.len())))
}

impl Service {
    /// Reads the policy file again and puts it in force if it compiles
    /// (see [`PolicyReload`]). Decisions already recorded keep the digest
    /// they used; workflows in flight re-check against the policy in force
    /// when they execute.
    pub async fn reload_policy(&self) -> PolicyReload {
        let path = &self.settings.policy;
        if let Ok(mut s) = self.policy_stamp.lock() {
            *s = stamp(path);
        }
        let current = self.engine.policy().digest().to_owned();
        let loaded = load_policy(path, &self.origin);
        let outcome = match loaded {
            Err(e) => PolicyReload::Refused {
                digest: current.clone(),
                error: e.to_string(),
            },
            Ok(policy) if policy.digest() == current => PolicyReload::Unchanged { digest: current },
            Ok(policy) => {
                let warnings = policy
                    .lint()
                    .iter()
                    .map(|d| format!("{}: {} ({})", d.field, d.message, d.code))
                    .collect();
                let to = policy.digest().to_owned();
                self.engine.replace_policy(policy);
                PolicyReload::Replaced {
                    from: current,
                    to,
                    warnings,
                }
            }
        };
        match &outcome {
            PolicyReload::Unchanged { .. } => {}
            PolicyReload::Replaced { from, to, warnings } => {
                info!(%from, %to, warnings = warnings.len(), "policy reloaded");
                for w in warnings {
                    warn!(warning = %w, "the reloaded policy has a warning");
                }
                if let Err(e) = self.engine.record_policy_change(from, to).await {
                    warn!(error = %e, "the policy change could not be recorded");
                }
            }
            PolicyReload::Refused { digest, error } => {
                self.policy_reload_failures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                warn!(%error, %digest, "the policy file does not compile; the policy in force stays");
                self.record_policy_event(&format!(
                    "the changed policy file was refused ({error}); {digest} stays in force"
                ))
                .await;
            }
        }
        outcome
    }

    /// Reloads when the file changed since it was last read (checked at
    /// the start of every pass: a `stat`, no read).
    pub(crate) async fn reload_if_changed(&self) -> Option<PolicyReload> {
        let now = stamp(&self.settings.policy);
        let changed = self.policy_stamp.lock().map(|s| *s != now).unwrap_or(false);
        if changed {
            Some(self.reload_policy().await)
        } else {
            None
        }
    }

    /// How many reloads were refused since the process started.
    pub fn policy_reload_failures(&self) -> u64 {
        self.policy_reload_failures
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn record_policy_event(&self, what: &str) {
        if let Err(e) = self
            .engine
            .record_incident("policy", "policy reload", what)
            .await
        {
            warn!(error = %e, "the policy reload could not be recorded");
        }
    }
}
