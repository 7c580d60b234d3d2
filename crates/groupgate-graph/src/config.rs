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

    /// The token scope: the Graph resource's `/.default`.
    pub fn scope(&self) -> String {
        match reqwest::Url::parse(&self.base_url) {
            Ok(url) => format!("{}/.default", url.origin().ascii_serialization()),
            Err(_) => "https://graph.microsoft.com/.default".to_owned(),
        }
    }
}
