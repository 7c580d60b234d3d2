//! Graph settings: tenant, app registration, endpoints.

use crate::Secret;
use groupgate_core::endpoint::{EndpointError, Transport, checked_endpoint};
use std::time::Duration;

/// How to reach Microsoft Graph.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// The tenant id (GUID) or domain.
    pub tenant_id: String,
    /// The app registration's client id.
    pub client_id: String,
    /// The app registration's client secret.
    pub client_secret: Secret,
    /// The identity platform, e.g. `https://login.microsoftonline.com`
    /// (national clouds have their own).
    pub authority_url: String,
    /// Graph's base URL including the version, e.g. `https://graph.microsoft.com/v1.0`.
    pub base_url: String,
    /// Timeout of each HTTP call.
    pub timeout: Duration,
    /// The `User-Agent` sent with every call.
    pub user_agent: String,
    /// The longest a bulk operation waits for throttled batch items
    /// (`Retry-After`) before it re-sends them; longer waits are left to the
    /// engine's retry timers.
    pub max_batch_wait: Duration,
    /// The token scope; `None` derives it from `base_url` (its origin and
    /// `/.default`). Set it when Graph is reached through a gateway whose
    /// address is not the resource's.
    pub scope: Option<String>,
    /// `https` only (the default), or also plain `http` to a loopback
    /// address, for emulators: the client secret goes to `authority_url`,
    /// and the token to `base_url`.
    pub transport: Transport,
}

/// A setting that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required setting is missing.
    #[error(
        "`{0}` is not set; set it to the app registration's value (see docs/adapters/graph.md)"
    )]
    Missing(&'static str),
    /// The settings file does not parse.
    #[error("the Graph settings file is not valid: {0}")]
    File(String),
    /// A setting does not parse.
    #[error("`{name}` is not a valid URL: `{value}`")]
    BadUrl {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// An endpoint that credentials may not be sent to.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// The tenant is neither a GUID nor a domain name.
    #[error(
        "`GROUPGATE_GRAPH_TENANT_ID` is `{0}`: give the tenant's GUID or its domain (letters, digits, `.` and `-`)"
    )]
    BadTenant(String),
    /// A token scope that is empty, too long or holds spaces.
    #[error(
        "`GROUPGATE_GRAPH_SCOPE` is `{0}`: give one scope such as `https://graph.microsoft.com/.default`"
    )]
    BadScope(String),
    /// A setting that is neither true nor false.
    #[error("`{name}` is `{value}`: use true or false")]
    BadFlag {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: String,
    },
}

impl GraphConfig {
    /// Settings for the public cloud.
    pub fn new(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret,
    ) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            client_secret,
            authority_url: "https://login.microsoftonline.com".to_owned(),
            base_url: "https://graph.microsoft.com/v1.0".to_owned(),
            timeout: Duration::from_secs(30),
            user_agent: format!("groupgate/{}", env!("CARGO_PKG_VERSION")),
            max_batch_wait: Duration::from_secs(30),
            scope: None,
            transport: Transport::HttpsOnly,
        }
    }

    /// Settings for an emulator on this machine: `base_url` and
    /// `authority_url` as given, plain http to loopback allowed.
    pub fn for_loopback_emulator(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret,
        base_url: impl Into<String>,
        authority_url: impl Into<String>,
    ) -> Self {
        let mut config = Self::new(tenant_id, client_id, client_secret);
        config.base_url = base_url.into();
        config.authority_url = authority_url.into();
        config.transport = Transport::AllowLoopbackHttp;
        config
    }

    /// Checks the settings a client is built from: both endpoints `https`
    /// (or loopback `http` when `transport` allows it), no credentials,
    /// query or fragment in them, a tenant that is a GUID or a domain.
    pub fn validate(&self) -> Result<(), ConfigError> {
        checked_endpoint("base_url", &self.base_url, self.transport)?;
        checked_endpoint("authority_url", &self.authority_url, self.transport)?;
        let tenant_ok = !self.tenant_id.is_empty()
            && self.tenant_id.len() <= 256
            && self
                .tenant_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !tenant_ok {
            return Err(ConfigError::BadTenant(self.tenant_id.clone()));
        }
        if let Some(scope) = &self.scope
            && (scope.is_empty() || scope.len() > 1024 || scope.chars().any(char::is_whitespace))
        {
            return Err(ConfigError::BadScope(scope.clone()));
        }
        Ok(())
    }

    /// Settings from `GROUPGATE_GRAPH_TENANT_ID`, `…_CLIENT_ID`,
    /// `…_CLIENT_SECRET`, and optionally `…_BASE_URL` and `…_AUTHORITY_URL`,
    /// read through `var` (pass `|k| std::env::var(k).ok()`).
    ///
    /// ```
    /// use groupgate_graph::GraphConfig;
    /// let env = |k: &str| match k {
    ///     "GROUPGATE_GRAPH_TENANT_ID" => Some("contoso.onmicrosoft.com".to_owned()),
    ///     "GROUPGATE_GRAPH_CLIENT_ID" => Some("00000000-0000-0000-0000-000000000001".to_owned()),
    ///     "GROUPGATE_GRAPH_CLIENT_SECRET" => Some("s3cret".to_owned()),
    ///     _ => None,
    /// };
    /// let c = GraphConfig::from_vars(env).unwrap();
    /// assert_eq!(c.base_url, "https://graph.microsoft.com/v1.0");
    /// assert!(!format!("{c:?}").contains("s3cret"));
    /// ```
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let need = |name: &'static str| {
            var(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let mut config = Self::new(
            need("GROUPGATE_GRAPH_TENANT_ID")?,
            need("GROUPGATE_GRAPH_CLIENT_ID")?,
            Secret::new(need("GROUPGATE_GRAPH_CLIENT_SECRET")?),
        );
        if let Some(value) = var("GROUPGATE_GRAPH_ALLOW_INSECURE_LOOPBACK") {
            config.transport = match value.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" => Transport::AllowLoopbackHttp,
                "" | "0" | "false" | "no" => Transport::HttpsOnly,
                _ => {
                    return Err(ConfigError::BadFlag {
                        name: "GROUPGATE_GRAPH_ALLOW_INSECURE_LOOPBACK",
                        value,
                    });
                }
            };
        }
        for (name, setting, slot) in [
            ("GROUPGATE_GRAPH_BASE_URL", "base_url", &mut config.base_url),
            (
                "GROUPGATE_GRAPH_AUTHORITY_URL",
                "authority_url",
                &mut config.authority_url,
            ),
        ] {
            if let Some(value) = var(name).filter(|v| !v.trim().is_empty()) {
                *slot = checked_endpoint(setting, &value, config.transport)?;
            }
        }
        config.scope = var("GROUPGATE_GRAPH_SCOPE").filter(|v| !v.trim().is_empty());
        config.validate()?;
        Ok(config)
    }

    /// Settings from a YAML (or JSON) file, overridden by the environment
    /// variables of [`GraphConfig::from_vars`]. The file may hold
    /// `tenant_id`, `client_id`, `base_url`, `authority_url`, `scope`,
    /// `allow_insecure_loopback` and `timeout_seconds`. The client secret is never read from the file (a
    /// `client_secret` key is refused): it comes from
    /// `GROUPGATE_GRAPH_CLIENT_SECRET` only.
    ///
    /// ```
    /// use groupgate_graph::GraphConfig;
    /// let file = "tenant_id: contoso.onmicrosoft.com\nclient_id: app-1\n\
    ///             base_url: http://127.0.0.1:8080/v1.0\nallow_insecure_loopback: true\n";
    /// let env = |k: &str| (k == "GROUPGATE_GRAPH_CLIENT_SECRET").then(|| "s3cret".to_owned());
    /// let c = GraphConfig::from_file_and_vars(Some(file), env).unwrap();
    /// assert_eq!(c.client_id, "app-1");
    /// assert_eq!(c.client_secret.expose(), "s3cret");
    /// assert_eq!(c.scope(), "http://127.0.0.1:8080/.default");
    /// ```
    pub fn from_file_and_vars(
        file: Option<&str>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let parsed: std::collections::BTreeMap<String, serde_json::Value> = match file {
            Some(text) if text.trim().is_empty() => Default::default(),
            Some(text) => {
                groupgate_core::input::from_yaml(text, &groupgate_core::input::Limits::small())
                    .map_err(|e| {
                        ConfigError::File(format!(
                            "{e} (see docs/adapters/graph.md for the settings)"
                        ))
                    })?
            }
            None => Default::default(),
        };
        let from_file = |key: &str| match parsed.get(key) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(serde_json::Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        };
        if parsed.contains_key("client_secret") {
            return Err(ConfigError::File(
                "`client_secret` is a secret and is not read from the file; set `GROUPGATE_GRAPH_CLIENT_SECRET` instead".to_owned(),
            ));
        }
        for key in parsed.keys() {
            if ![
                "tenant_id",
                "client_id",
                "base_url",
                "authority_url",
                "timeout_seconds",
                "scope",
                "allow_insecure_loopback",
            ]
            .contains(&key.as_str())
            {
                return Err(ConfigError::File(format!("unknown setting `{key}`")));
            }
        }
        let merged = |name: &str| {
            var(name).filter(|v| !v.trim().is_empty()).or_else(|| {
                let key = name
                    .trim_start_matches("GROUPGATE_GRAPH_")
                    .to_ascii_lowercase();
                from_file(&key)
            })
        };
        let mut config = Self::from_vars(merged)?;
        if let Some(seconds) = from_file("timeout_seconds").and_then(|s| s.parse::<u64>().ok()) {
            config.timeout = Duration::from_secs(seconds);
        }
        Ok(config)
    }

    /// The token scope: the `scope` setting, else the Graph resource's
    /// `/.default` (the origin of `base_url`).
    pub fn scope(&self) -> String {
        if let Some(scope) = &self.scope {
            return scope.clone();
        }
        match reqwest::Url::parse(&self.base_url) {
            Ok(url) => format!("{}/.default", url.origin().ascii_serialization()),
            Err(_) => "https://graph.microsoft.com/.default".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_only(k: &str) -> Option<String> {
        (k == "GROUPGATE_GRAPH_CLIENT_SECRET").then(|| "s3cret".to_owned())
    }

    #[test]
    fn a_secret_in_the_file_is_refused_without_echoing_it() {
        let file = "tenant_id: t\nclient_id: c\nclient_secret: hunter2\n";
        let text = GraphConfig::from_file_and_vars(Some(file), secret_only)
            .unwrap_err()
            .to_string();
        assert!(text.contains("GROUPGATE_GRAPH_CLIENT_SECRET"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn an_unknown_setting_is_named() {
        let file = "tenant_id: t\nclient_id: c\ntimeout: 5\n";
        let text = GraphConfig::from_file_and_vars(Some(file), secret_only)
            .unwrap_err()
            .to_string();
        assert!(text.contains("unknown setting `timeout`"), "{text}");
    }

    #[test]
    fn variables_take_precedence_over_the_file() {
        let file = "tenant_id: from-file\nclient_id: c\ntimeout_seconds: 7\n";
        let vars = |k: &str| match k {
            "GROUPGATE_GRAPH_TENANT_ID" => Some("from-env".to_owned()),
            other => secret_only(other),
        };
        let c = GraphConfig::from_file_and_vars(Some(file), vars).unwrap();
        assert_eq!(c.tenant_id, "from-env");
        assert_eq!(c.client_id, "c");
        assert_eq!(c.timeout, Duration::from_secs(7));
    }

    #[test]
    fn the_secret_goes_only_over_https_unless_loopback_http_is_asked_for() {
        let file = |extra: &str| format!("tenant_id: t\nclient_id: c\n{extra}");
        for bad in [
            "authority_url: http://login.microsoftonline.com\n",
            "base_url: http://graph.microsoft.com/v1.0\n",
            "authority_url: ftp://login.microsoftonline.com\n",
            "authority_url: http://127.0.0.1:9\n",
            "authority_url: http://10.0.0.1:9\nallow_insecure_loopback: true\n",
        ] {
            let err = GraphConfig::from_file_and_vars(Some(&file(bad)), secret_only).unwrap_err();
            assert!(err.to_string().contains("must use https"), "{bad}: {err}");
        }
        let ok = file("authority_url: http://127.0.0.1:9\nallow_insecure_loopback: true\n");
        let c = GraphConfig::from_file_and_vars(Some(&ok), secret_only).unwrap();
        assert_eq!(c.transport, Transport::AllowLoopbackHttp);
        // Built by hand, the client checks too.
        let mut by_hand = GraphConfig::new("t", "c", Secret::new("s"));
        by_hand.authority_url = "http://login.example.net".into();
        assert!(crate::GraphClient::new(by_hand).is_err());
    }

    #[test]
    fn the_scope_and_tenant_are_settings_checked_for_shape() {
        let file = "tenant_id: t\nclient_id: c\nbase_url: https://graph.contoso-gateway.example/v1.0\nscope: https://graph.microsoft.com/.default\n";
        let c = GraphConfig::from_file_and_vars(Some(file), secret_only).unwrap();
        assert_eq!(c.scope(), "https://graph.microsoft.com/.default");
        let derived = GraphConfig::new("t", "c", Secret::new("s"));
        assert_eq!(derived.scope(), "https://graph.microsoft.com/.default");
        let bad_tenant = "tenant_id: contoso/../x\nclient_id: c\n";
        let err = GraphConfig::from_file_and_vars(Some(bad_tenant), secret_only).unwrap_err();
        assert!(err.to_string().contains("tenant"), "{err}");
        let bad_scope = "tenant_id: t\nclient_id: c\nscope: a b\n";
        assert!(GraphConfig::from_file_and_vars(Some(bad_scope), secret_only).is_err());
    }
}
