//! ServiceNow settings: instance, credentials, catalog variable mapping.

use groupgate_core::Secret;
use std::collections::BTreeMap;
use std::time::Duration;

/// How to authenticate.
#[derive(Debug, Clone)]
pub enum Auth {
    /// HTTP Basic with an integration user.
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: Secret,
    },
    /// OAuth (`oauth_token.do`): the password grant of an integration user.
    OAuthPassword {
        /// The OAuth client id.
        client_id: String,
        /// The OAuth client secret.
        client_secret: Secret,
        /// The user name.
        user: String,
        /// The password.
        password: Secret,
    },
    /// OAuth client credentials (recent releases).
    OAuthClientCredentials {
        /// The OAuth client id.
        client_id: String,
        /// The OAuth client secret.
        client_secret: Secret,
    },
}

/// Which catalog variables (or RITM fields) carry what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableMapping {
    /// The variable naming the app, team or site asked for.
    pub resource: String,
    /// The variable holding the end date (`YYYY-MM-DD` or a date-time); optional.
    pub end_date: String,
    /// The variable holding the justification; optional.
    pub justification: String,
    /// The variable holding a suggested group (e.g. from an AI triage step); optional.
    pub suggestion: String,
    /// A variable naming the target user (a `sys_user` reference); when absent
    /// or empty, the RITM's `requested_for` is the target.
    pub target: String,
}

impl Default for VariableMapping {
    fn default() -> Self {
        Self {
            resource: "requested_resource".to_owned(),
            end_date: "end_date".to_owned(),
            justification: "justification".to_owned(),
            suggestion: "suggested_group".to_owned(),
            target: "target_user".to_owned(),
        }
    }
}

/// `sc_req_item.state` codes groupgate sets (the out-of-box choices by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateCodes {
    /// Work in progress (`2`).
    pub in_progress: String,
    /// Waiting for approval: `-5` (Pending).
    pub approval_required: String,
    /// Closed complete (`3`).
    pub closed_complete: String,
    /// Closed incomplete (`4`).
    pub closed_incomplete: String,
    /// Needs a person: work in progress (`2`) with the stage set to
    /// `manual_intervention`.
    pub manual_intervention: String,
}

impl Default for StateCodes {
    fn default() -> Self {
        Self {
            in_progress: "2".to_owned(),
            approval_required: "-5".to_owned(),
            closed_complete: "3".to_owned(),
            closed_incomplete: "4".to_owned(),
            manual_intervention: "2".to_owned(),
        }
    }
}

/// Whether groupgate creates approval records or reads the ones a flow created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalMode {
    /// groupgate creates `sysapproval_approver` records for each stage.
    Create,
    /// The instance's flow creates them; groupgate reads and answers them.
    ReadFlowCreated,
}

/// How to reach a ServiceNow instance.
#[derive(Debug, Clone)]
pub struct ServiceNowConfig {
    /// e.g. `https://dev000.service-now.com`.
    pub instance_url: String,
    /// Credentials.
    pub auth: Auth,
    /// Timeout of each HTTP call.
    pub timeout: Duration,
    /// The variable mapping per catalog item (by `sc_cat_item` sys_id or name).
    pub catalog: BTreeMap<String, VariableMapping>,
    /// The mapping for catalog items not listed.
    pub default_mapping: VariableMapping,
    /// State codes.
    pub states: StateCodes,
    /// Approval records: created by groupgate or by the instance's flow.
    pub approvals: ApprovalMode,
}

/// A missing or malformed setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required setting is missing.
    #[error("`{0}` is not set; see docs/adapters/servicenow.md")]
    Missing(&'static str),
    /// The instance URL is not a URL.
    #[error("`GROUPGATE_SNOW_INSTANCE_URL` is not a valid URL: `{0}`")]
    BadUrl(String),
}

impl ServiceNowConfig {
    /// Settings with defaults for everything but the instance and credentials.
    pub fn new(instance_url: impl Into<String>, auth: Auth) -> Self {
        Self {
            instance_url: instance_url.into().trim_end_matches('/').to_owned(),
            auth,
            timeout: Duration::from_secs(30),
            catalog: BTreeMap::new(),
            default_mapping: VariableMapping::default(),
            states: StateCodes::default(),
            approvals: ApprovalMode::Create,
        }
    }

    /// Settings from `GROUPGATE_SNOW_INSTANCE_URL` and either
    /// `GROUPGATE_SNOW_USER` + `GROUPGATE_SNOW_PASSWORD` (Basic, or the OAuth
    /// password grant when `GROUPGATE_SNOW_CLIENT_ID` and
    /// `GROUPGATE_SNOW_CLIENT_SECRET` are also set) or only the client id and
    /// secret (OAuth client credentials).
    ///
    /// ```
    /// use groupgate_servicenow::{Auth, ServiceNowConfig};
    /// let env = |k: &str| match k {
    ///     "GROUPGATE_SNOW_INSTANCE_URL" => Some("https://dev000.service-now.com/".to_owned()),
    ///     "GROUPGATE_SNOW_USER" => Some("groupgate.integration".to_owned()),
    ///     "GROUPGATE_SNOW_PASSWORD" => Some("p4ss".to_owned()),
    ///     _ => None,
    /// };
    /// let c = ServiceNowConfig::from_vars(env).unwrap();
    /// assert!(matches!(c.auth, Auth::Basic { .. }));
    /// assert_eq!(c.instance_url, "https://dev000.service-now.com");
    /// assert!(!format!("{c:?}").contains("p4ss"));
    /// ```
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let url = get("GROUPGATE_SNOW_INSTANCE_URL")
            .ok_or(ConfigError::Missing("GROUPGATE_SNOW_INSTANCE_URL"))?;
        if reqwest::Url::parse(&url).is_err() {
            return Err(ConfigError::BadUrl(url));
        }
        let user = get("GROUPGATE_SNOW_USER");
        let password = get("GROUPGATE_SNOW_PASSWORD").map(Secret::new);
        let client = get("GROUPGATE_SNOW_CLIENT_ID")
            .zip(get("GROUPGATE_SNOW_CLIENT_SECRET").map(Secret::new));
        let auth = match (user, password, client) {
            (Some(user), Some(password), Some((client_id, client_secret))) => Auth::OAuthPassword {
                client_id,
                client_secret,
                user,
                password,
            },
            (Some(user), Some(password), None) => Auth::Basic { user, password },
            (None, None, Some((client_id, client_secret))) => Auth::OAuthClientCredentials {
                client_id,
                client_secret,
            },
            (Some(_), None, _) => return Err(ConfigError::Missing("GROUPGATE_SNOW_PASSWORD")),
            _ => return Err(ConfigError::Missing("GROUPGATE_SNOW_USER")),
        };
        Ok(Self::new(url, auth))
    }

    /// The mapping for a catalog item (by sys_id or name).
    pub fn mapping(&self, cat_item_id: &str, cat_item_name: &str) -> &VariableMapping {
        self.catalog
            .get(cat_item_id)
            .or_else(|| self.catalog.get(cat_item_name))
            .unwrap_or(&self.default_mapping)
    }
}
