//! ServiceNow settings: instance, credentials, catalog variable mapping.

use groupgate_core::Secret;
use groupgate_core::endpoint::{EndpointError, Transport, checked_endpoint};
use serde::{Deserialize, Serialize};
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
    /// An API key (REST API Key, Washington DC release and later), sent as
    /// the `x-sn-apikey` header; the instance maps it to an integration user.
    ApiKey {
        /// The key.
        key: Secret,
    },
}

/// Which catalog variables (or RITM fields) carry what. In a settings file,
/// fields left out keep their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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

/// `sc_req_item.state` codes groupgate sets (the out-of-box choices by
/// default). In a settings file, codes left out keep their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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

/// Whether groupgate creates approval records or reads the ones a flow
/// created (`create` / `read_flow_created` in a settings file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMode {
    /// groupgate creates `sysapproval_approver` records for each stage.
    Create,
    /// The instance's flow creates them; groupgate reads and answers them.
    ReadFlowCreated,
}

/// How a ServiceNow user (`sys_user`) is matched to a directory user. Only
/// an attribute that is unique and that users cannot edit will do: e-mail is
/// neither in ServiceNow (two users may carry the same address), so it is
/// never used. In a settings file: `approver_identity: user_name`, or
/// `approver_identity: {object_id_field: u_entra_object_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApproverIdentity {
    /// `sys_user.user_name` is the Entra ID user principal name (the default:
    /// true where users are provisioned from Entra ID or sign in by SSO with
    /// the UPN as user name). `user_name` is unique on every instance.
    UserName,
    /// This `sys_user` field holds the Entra ID object id (filled by the
    /// provisioning, read-only to users through an ACL), e.g.
    /// `u_entra_object_id`.
    ObjectIdField(String),
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
    /// How `sys_user` records are matched to directory users.
    pub approver_identity: ApproverIdentity,
    /// Rows asked for per page of a Table API query (`sysparm_limit`),
    /// 1 to 10,000; 100 by default.
    pub page_size: usize,
    /// `https` only (the default), or also plain `http` to a loopback
    /// address, for emulators: credentials go to `instance_url`.
    pub transport: Transport,
}

/// The most rows a page may ask for (the Table API's own default cap).
pub(crate) const MAX_PAGE_SIZE: usize = 10_000;

/// A missing or malformed setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required setting is missing.
    #[error("`{0}` is not set; see docs/adapters/servicenow.md")]
    Missing(&'static str),
    /// The instance URL is not a URL.
    #[error("`GROUPGATE_SNOW_INSTANCE_URL` is not a valid URL: `{0}`")]
    BadUrl(String),
    /// An endpoint that credentials may not be sent to.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// The settings file is not valid.
    #[error("the ServiceNow settings file is not valid: {0}")]
    File(String),
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
            approver_identity: ApproverIdentity::UserName,
            page_size: 100,
            transport: Transport::HttpsOnly,
        }
    }

    /// Settings for an emulator on this machine: plain http to loopback
    /// allowed.
    pub fn for_loopback_emulator(instance_url: impl Into<String>, auth: Auth) -> Self {
        let mut config = Self::new(instance_url, auth);
        config.transport = Transport::AllowLoopbackHttp;
        config
    }

    /// Checks the settings a client is built from: the instance is `https`
    /// (or loopback `http` when `transport` allows it) with no credentials,
    /// query or fragment in the URL; the page size is 1 to 10,000.
    pub fn validate(&self) -> Result<(), ConfigError> {
        checked_endpoint("instance_url", &self.instance_url, self.transport)?;
        if !(1..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(ConfigError::File(format!(
                "`page_size` is {}; it must be 1 to {MAX_PAGE_SIZE}",
                self.page_size
            )));
        }
        Ok(())
    }

    /// Settings from `GROUPGATE_SNOW_INSTANCE_URL` (https; loopback http only
    /// with `GROUPGATE_SNOW_ALLOW_INSECURE_LOOPBACK=true`) and either
    /// `GROUPGATE_SNOW_API_KEY` (the `x-sn-apikey` header),
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
        let transport = match get("GROUPGATE_SNOW_ALLOW_INSECURE_LOOPBACK")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("0" | "false" | "no") => Transport::HttpsOnly,
            Some("1" | "true" | "yes") => Transport::AllowLoopbackHttp,
            Some(other) => {
                return Err(ConfigError::File(format!(
                    "`GROUPGATE_SNOW_ALLOW_INSECURE_LOOPBACK` is `{other}`: use true or false"
                )));
            }
        };
        let url = checked_endpoint("GROUPGATE_SNOW_INSTANCE_URL", &url, transport)?;
        if let Some(key) = get("GROUPGATE_SNOW_API_KEY") {
            let mut config = Self::new(
                url,
                Auth::ApiKey {
                    key: Secret::new(key),
                },
            );
            config.transport = transport;
            return Ok(config);
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
        let mut config = Self::new(url, auth);
        config.transport = transport;
        Ok(config)
    }

    /// Settings from a YAML settings file (the instance, the integration
    /// user's name, the OAuth client id, the timeout, the approval mode, state
    /// codes and the catalog mapping), with the `GROUPGATE_SNOW_*` variables
    /// of [`from_vars`](Self::from_vars) taking precedence. Passwords and
    /// client secrets are never read from the file: they come from
    /// `GROUPGATE_SNOW_PASSWORD` and `GROUPGATE_SNOW_CLIENT_SECRET` only.
    ///
    /// ```
    /// use groupgate_servicenow::{ApprovalMode, ServiceNowConfig};
    /// let file = "\
    /// instance_url: https://contoso.service-now.com
    /// user: groupgate.integration
    /// approvals: read_flow_created
    /// catalog:
    ///   Request access to application:
    ///     resource: app_name
    /// ";
    /// let env = |k: &str| (k == "GROUPGATE_SNOW_PASSWORD").then(|| "p4ss".to_owned());
    /// let c = ServiceNowConfig::from_file_and_vars(Some(file), env).unwrap();
    /// assert_eq!(c.approvals, ApprovalMode::ReadFlowCreated);
    /// let mapping = c.mapping("any-sys-id", "Request access to application");
    /// assert_eq!(mapping.resource, "app_name");
    /// assert_eq!(mapping.end_date, "end_date"); // left out: the default
    /// ```
    pub fn from_file_and_vars(
        file: Option<&str>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let settings = match file {
            Some(text) => SettingsFile::parse(text)?,
            None => SettingsFile::default(),
        };
        let merged = |name: &str| {
            var(name)
                .filter(|v| !v.trim().is_empty())
                .or_else(|| match name {
                    "GROUPGATE_SNOW_INSTANCE_URL" => settings.instance_url.clone(),
                    "GROUPGATE_SNOW_USER" => settings.user.clone(),
                    "GROUPGATE_SNOW_CLIENT_ID" => settings.client_id.clone(),
                    "GROUPGATE_SNOW_ALLOW_INSECURE_LOOPBACK" => {
                        settings.allow_insecure_loopback.map(|b| b.to_string())
                    }
                    _ => None,
                })
        };
        let mut config = Self::from_vars(merged)?;
        if let Some(seconds) = settings.timeout_seconds {
            config.timeout = Duration::from_secs(seconds);
        }
        if let Some(mode) = settings.approvals {
            config.approvals = mode;
        }
        if let Some(size) = settings.page_size {
            config.page_size = size;
        }
        if let Some(identity) = settings.approver_identity {
            if let ApproverIdentity::ObjectIdField(field) = &identity
                && !crate::query::is_field_name(field)
            {
                return Err(ConfigError::File(format!(
                    "`approver_identity.object_id_field`: `{field}` is not a field name (letters, digits and `_`)"
                )));
            }
            config.approver_identity = identity;
        }
        config.states = settings.states;
        config.default_mapping = settings.default_mapping;
        config.catalog = settings.catalog;
        config.validate()?;
        Ok(config)
    }

    /// The mapping for a catalog item (by sys_id or name).
    pub fn mapping(&self, cat_item_id: &str, cat_item_name: &str) -> &VariableMapping {
        self.catalog
            .get(cat_item_id)
            .or_else(|| self.catalog.get(cat_item_name))
            .unwrap_or(&self.default_mapping)
    }
}

/// The settings file's shape (see `docs/adapters/servicenow.md`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SettingsFile {
    instance_url: Option<String>,
    user: Option<String>,
    client_id: Option<String>,
    timeout_seconds: Option<u64>,
    page_size: Option<usize>,
    allow_insecure_loopback: Option<bool>,
    approvals: Option<ApprovalMode>,
    approver_identity: Option<ApproverIdentity>,
    states: StateCodes,
    default_mapping: VariableMapping,
    catalog: BTreeMap<String, VariableMapping>,
    /// Accepted only to be refused by name (secrets come from the environment).
    password: Option<serde::de::IgnoredAny>,
    /// Accepted only to be refused by name.
    client_secret: Option<serde::de::IgnoredAny>,
    /// Accepted only to be refused by name.
    api_key: Option<serde::de::IgnoredAny>,
}

impl SettingsFile {
    fn parse(text: &str) -> Result<Self, ConfigError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let settings: Self =
            groupgate_core::input::from_yaml(text, &groupgate_core::input::Limits::small())
                .map_err(|e| {
                    ConfigError::File(format!(
                        "{e} (see docs/adapters/servicenow.md for the settings)"
                    ))
                })?;
        let secret = [
            ("password", settings.password.is_some()),
            ("client_secret", settings.client_secret.is_some()),
            ("api_key", settings.api_key.is_some()),
        ]
        .into_iter()
        .find_map(|(key, present)| present.then_some(key));
        match secret {
            Some(key) => Err(ConfigError::File(format!(
                "`{key}` is a secret and is not read from the file; set `GROUPGATE_SNOW_{}` instead",
                key.to_ascii_uppercase()
            ))),
            None => Ok(settings),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        match k {
            "GROUPGATE_SNOW_PASSWORD" => Some("p4ss".to_owned()),
            _ => None,
        }
    }

    const FILE: &str = "\
instance_url: https://contoso.service-now.com/
user: groupgate.integration
timeout_seconds: 10
states:
  approval_required: '-6'
default_mapping:
  justification: business_reason
catalog:
  c0000000000000000000000000000001:
    resource: app_name
    target: access_for
";

    #[test]
    fn a_file_sets_everything_but_secrets() {
        let c = ServiceNowConfig::from_file_and_vars(Some(FILE), env).unwrap();
        assert_eq!(c.instance_url, "https://contoso.service-now.com");
        assert!(matches!(&c.auth, Auth::Basic { user, .. } if user == "groupgate.integration"));
        assert_eq!(c.timeout, Duration::from_secs(10));
        assert_eq!(c.states.approval_required, "-6");
        assert_eq!(c.states.closed_complete, "3");
        assert_eq!(c.approvals, ApprovalMode::Create);
        let item = c.mapping("c0000000000000000000000000000001", "");
        assert_eq!(
            (item.resource.as_str(), item.target.as_str()),
            ("app_name", "access_for")
        );
        assert_eq!(item.justification, "justification");
        assert_eq!(c.mapping("other", "Other").justification, "business_reason");
    }

    #[test]
    fn the_example_settings_file_is_valid() {
        let text = include_str!("../../../examples/servicenow.settings.yaml");
        let c = ServiceNowConfig::from_file_and_vars(Some(text), env).unwrap();
        assert_eq!(c.instance_url, "https://contoso.service-now.com");
        assert_eq!(c.approvals, ApprovalMode::Create);
        assert_eq!(c.states, StateCodes::default());
        assert_eq!(
            c.mapping("", "Request access to application"),
            &VariableMapping::default()
        );
    }

    #[test]
    fn variables_take_precedence_over_the_file() {
        let vars = |k: &str| match k {
            "GROUPGATE_SNOW_INSTANCE_URL" => Some("https://other.service-now.com".to_owned()),
            other => env(other),
        };
        let c = ServiceNowConfig::from_file_and_vars(Some(FILE), vars).unwrap();
        assert_eq!(c.instance_url, "https://other.service-now.com");
    }

    #[test]
    fn credentials_go_only_over_https_unless_loopback_http_is_asked_for() {
        for url in [
            "http://contoso.service-now.com",
            "ftp://contoso.service-now.com",
        ] {
            let file = format!("instance_url: {url}\nuser: u\n");
            let err = ServiceNowConfig::from_file_and_vars(Some(&file), env).unwrap_err();
            assert!(err.to_string().contains("must use https"), "{err}");
        }
        // Loopback http needs the explicit setting, and never reaches further.
        let file = "instance_url: http://127.0.0.1:9\nuser: u\n";
        assert!(ServiceNowConfig::from_file_and_vars(Some(file), env).is_err());
        let allowed = format!("{file}allow_insecure_loopback: true\n");
        let c = ServiceNowConfig::from_file_and_vars(Some(&allowed), env).unwrap();
        assert_eq!(c.transport, Transport::AllowLoopbackHttp);
        let far = "instance_url: http://10.1.2.3\nuser: u\nallow_insecure_loopback: true\n";
        assert!(ServiceNowConfig::from_file_and_vars(Some(far), env).is_err());
        // A client built by hand is checked too.
        let by_hand = ServiceNowConfig::new(
            "http://contoso.service-now.com",
            Auth::Basic {
                user: "u".into(),
                password: Secret::new("p"),
            },
        );
        assert!(crate::ServiceNowClient::new(by_hand).is_err());
    }

    #[test]
    fn an_api_key_comes_from_the_environment_only() {
        let vars = |k: &str| match k {
            "GROUPGATE_SNOW_INSTANCE_URL" => Some("https://contoso.service-now.com".to_owned()),
            "GROUPGATE_SNOW_API_KEY" => Some("k3y".to_owned()),
            _ => None,
        };
        let c = ServiceNowConfig::from_vars(vars).unwrap();
        assert!(matches!(&c.auth, Auth::ApiKey { key } if key.expose() == "k3y"));
        assert!(!format!("{c:?}").contains("k3y"));
        let file = "instance_url: https://x.service-now.com\napi_key: k3y\n";
        let err = ServiceNowConfig::from_file_and_vars(Some(file), env).unwrap_err();
        assert!(err.to_string().contains("GROUPGATE_SNOW_API_KEY"), "{err}");
        assert!(!err.to_string().contains("k3y"), "{err}");
    }

    #[test]
    fn the_page_size_is_a_bounded_setting() {
        let file =
            |n: &str| format!("instance_url: https://x.service-now.com\nuser: u\npage_size: {n}\n");
        let c = ServiceNowConfig::from_file_and_vars(Some(&file("500")), env).unwrap();
        assert_eq!(c.page_size, 500);
        for bad in ["0", "10001"] {
            let err = ServiceNowConfig::from_file_and_vars(Some(&file(bad)), env).unwrap_err();
            assert!(err.to_string().contains("page_size"), "{err}");
        }
    }

    #[test]
    fn secrets_in_the_file_are_refused() {
        let file = "instance_url: https://x.service-now.com\nuser: u\npassword: hunter2\n";
        let err = ServiceNowConfig::from_file_and_vars(Some(file), env).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("GROUPGATE_SNOW_PASSWORD"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        let file = "client_secret: {value: hunter3}\n";
        let text = ServiceNowConfig::from_file_and_vars(Some(file), env)
            .unwrap_err()
            .to_string();
        assert!(text.contains("GROUPGATE_SNOW_CLIENT_SECRET"), "{text}");
        assert!(!text.contains("hunter3"), "{text}");
    }

    #[test]
    fn a_misspelt_setting_is_located() {
        let file = "instance_url: https://x.service-now.com\ncatalog:\n  Item:\n    resorce: app\n";
        let text = ServiceNowConfig::from_file_and_vars(Some(file), env)
            .unwrap_err()
            .to_string();
        assert!(text.contains("line 4"), "{text}");
        assert!(text.contains("catalog.Item"), "{text}");
        assert!(text.contains("unknown field `resorce`"), "{text}");
    }

    #[test]
    fn a_bad_approval_mode_names_the_choices() {
        let file = "approvals: sometimes\n";
        let text = ServiceNowConfig::from_file_and_vars(Some(file), env)
            .unwrap_err()
            .to_string();
        assert!(text.contains("read_flow_created"), "{text}");
    }
}
