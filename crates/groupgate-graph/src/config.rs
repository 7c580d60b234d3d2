//! Graph settings: tenant, app registration, endpoints.

use crate::Secret;
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
        }
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
        for (name, slot) in [
            ("GROUPGATE_GRAPH_BASE_URL", &mut config.base_url),
            ("GROUPGATE_GRAPH_AUTHORITY_URL", &mut config.authority_url),
        ] {
            if let Some(value) = var(name).filter(|v| !v.trim().is_empty()) {
                if reqwest::Url::parse(&value).is_err() {
                    return Err(ConfigError::BadUrl { name, value });
                }
                *slot = value.trim_end_matches('/').to_owned();
            }
        }
        Ok(config)
    }

    /// Settings from a YAML (or JSON) file, overridden by the environment
    /// variables of [`GraphConfig::from_vars`]. The file may hold
    /// `tenant_id`, `client_id`, `base_url`, `authority_url` and
    /// `timeout_seconds`. The client secret is never read from the file (a
    /// `client_secret` key is refused): it comes from
    /// `GROUPGATE_GRAPH_CLIENT_SECRET` only.
    ///
    /// ```
    /// use groupgate_graph::GraphConfig;
    /// let file = "tenant_id: contoso.onmicrosoft.com\nclient_id: app-1\nbase_url: http://127.0.0.1:8080/v1.0\n";
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

    /// The token scope: the Graph resource's `/.default`.
    pub fn scope(&self) -> String {
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
}
