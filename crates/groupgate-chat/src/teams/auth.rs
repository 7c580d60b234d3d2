//! Checking that a request really comes from the Bot Framework (Teams): the
//! `Authorization: Bearer` JWT's signature against the keys the Bot
//! Framework publishes (found through its OpenID metadata document, cached,
//! and fetched again when a token names a key not in the cache), its
//! issuer, its audience (the bot's app id), its time, that the key is
//! endorsed for Teams, and that its `serviceUrl` claim is the activity's.

use crate::http::{HttpError, checked_url};
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Mutex;

/// Where the Bot Framework publishes its metadata, and what its tokens say.
#[derive(Debug, Clone)]
pub struct BotAuthConfig {
    /// The bot's Microsoft app id: the audience every token must name.
    pub app_id: String,
    /// The OpenID metadata document.
    pub openid_metadata_url: String,
    /// The issuer every token must name.
    pub issuer: String,
    /// The channel the signing key must be endorsed for.
    pub channel: String,
    /// Seconds of clock skew allowed.
    pub leeway_seconds: u64,
    /// Plain http to a loopback address (the emulator), nowhere else.
    pub allow_insecure_loopback: bool,
}

impl BotAuthConfig {
    /// The Bot Framework's public cloud values for `app_id`.
    pub fn for_app(app_id: impl Into<String>) -> Self {
        Self {
            app_id: app_id.into(),
            openid_metadata_url:
                "https://login.botframework.com/v1/.well-known/openidconfiguration".to_owned(),
            issuer: "https://api.botframework.com".to_owned(),
            channel: "msteams".to_owned(),
            leeway_seconds: 300,
            allow_insecure_loopback: false,
        }
    }
}

/// Why a request is refused (answered with 401 and audited).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("the request has no bearer token")]
    NoToken,
    /// The token is not a JWT groupgate can read.
    #[error("the token is malformed: {0}")]
    Malformed(String),
    /// Signed with a key the Bot Framework does not publish, or altered.
    #[error("the token's signature does not verify against the Bot Framework's keys")]
    BadSignature,
    /// The key is not endorsed for Teams.
    #[error("the signing key is not endorsed for `{0}`")]
    NotEndorsed(String),
    /// Wrong issuer, audience, or time.
    #[error("the token is not valid for this bot: {0}")]
    Invalid(String),
    /// The token names another service URL than the activity.
    #[error("the token is for service URL `{token}`, the activity says `{activity}`")]
    ServiceUrl {
        /// The token's.
        token: String,
        /// The activity's.
        activity: String,
    },
    /// The keys could not be fetched.
    #[error("the Bot Framework's keys could not be fetched: {0}")]
    Keys(String),
}

#[derive(Debug, Clone)]
struct Key {
    kid: String,
    n: String,
    e: String,
    endorsements: Option<Vec<String>>,
}

#[derive(Debug, Default)]
struct Cache {
    keys: Vec<Key>,
    fetched: Option<DateTime<Utc>>,
}

/// Verifies Bot Framework tokens, with the signing keys cached.
#[derive(Debug)]
pub struct BotAuth {
    config: BotAuthConfig,
    http: reqwest::Client,
    cache: Mutex<Cache>,
    fetch: tokio::sync::Mutex<()>,
}

#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(rename = "serviceurl", alias = "serviceUrl", default)]
    service_url: Option<String>,
}

/// Keys are fetched again after this long, and at most this often when a
/// token names an unknown key (so random key ids cannot make us hammer the
/// endpoint).
const KEYS_MAX_AGE_HOURS: i64 = 24;
const MIN_REFETCH_SECONDS: i64 = 60;

impl BotAuth {
    /// A verifier for `config`.
    pub fn new(config: BotAuthConfig) -> Result<Self, HttpError> {
        checked_url(&config.openid_metadata_url, config.allow_insecure_loopback)?;
        let http = crate::http::client(config.allow_insecure_loopback)?;
        Ok(Self {
            config,
            http,
            cache: Mutex::new(Cache::default()),
            fetch: tokio::sync::Mutex::new(()),
        })
    }

    /// Verifies the `Authorization` header of a request whose activity
    /// names `service_url`, at `now`.
    pub async fn verify(
        &self,
        authorization: Option<&str>,
        service_url: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() < 16 * 1024)
            .ok_or(AuthError::NoToken)?;
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::Malformed(format!(
                "algorithm {:?} (only RS256 is accepted)",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Malformed("no key id".to_owned()))?;
        let key = self.key(&kid, now).await?.ok_or(AuthError::BadSignature)?;
        if let Some(endorsements) = &key.endorsements
            && !endorsements.contains(&self.config.channel)
        {
            return Err(AuthError::NotEndorsed(self.config.channel.clone()));
        }
        let decoding = DecodingKey::from_rsa_components(&key.n, &key.e)
            .map_err(|e| AuthError::Keys(format!("key `{kid}` is not an RSA key: {e}")))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.app_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = self.config.leeway_seconds;
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<Claims>(token, &decoding, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::ExpiredSignature => AuthError::Invalid("it expired".to_owned()),
                ErrorKind::ImmatureSignature => {
                    AuthError::Invalid("it is not valid yet".to_owned())
                }
                ErrorKind::InvalidAudience => {
                    AuthError::Invalid("it is for another app (audience)".to_owned())
                }
                ErrorKind::InvalidIssuer => AuthError::Invalid("another issuer".to_owned()),
                _ => AuthError::Malformed(e.to_string()),
            }
        })?;
        // The token's times are checked against the system clock (with the
        // leeway); `now` only ages the key cache.
        let claimed = data.claims.service_url.unwrap_or_default();
        if claimed.trim_end_matches('/') != service_url.trim_end_matches('/') {
            return Err(AuthError::ServiceUrl {
                token: claimed,
                activity: service_url.to_owned(),
            });
        }
        Ok(())
    }

    /// The key `kid`, fetching the keys again when it is unknown or the
    /// cache is old (at most once a minute).
    async fn key(&self, kid: &str, now: DateTime<Utc>) -> Result<Option<Key>, AuthError> {
        let (found, stale, recent) = self.lookup(kid, now);
        if found.is_some() && !stale {
            return Ok(found);
        }
        if recent && found.is_none() {
            return Ok(None);
        }
        let _one_at_a_time = self.fetch.lock().await;
        let (found_now, stale_now, _) = self.lookup(kid, now);
        if found_now.is_some() && !stale_now {
            return Ok(found_now);
        }
        match self.fetch_keys().await {
            Ok(keys) => {
                if let Ok(mut cache) = self.cache.lock() {
                    cache.keys = keys;
                    cache.fetched = Some(now);
                }
                Ok(self.lookup(kid, now).0)
            }
            // Keys we already hold still verify while the endpoint is down.
            Err(_) if found.is_some() => Ok(found),
            Err(e) => Err(e),
        }
    }

    fn lookup(&self, kid: &str, now: DateTime<Utc>) -> (Option<Key>, bool, bool) {
        let Ok(cache) = self.cache.lock() else {
            return (None, true, false);
        };
        let found = cache.keys.iter().find(|k| k.kid == kid).cloned();
        let age = cache.fetched.map(|f| now - f);
        let stale = age.is_none_or(|a| a > TimeDelta::hours(KEYS_MAX_AGE_HOURS));
        let recent = age.is_some_and(|a| a < TimeDelta::seconds(MIN_REFETCH_SECONDS));
        (found, stale, recent)
    }

    async fn fetch_keys(&self) -> Result<Vec<Key>, AuthError> {
        let get = |url: String| async move {
            let answer = self
                .http
                .get(&url)
                .send()
                .await
                .map_err(|e| AuthError::Keys(format!("{url}: {e}")))?;
            if !answer.status().is_success() {
                return Err(AuthError::Keys(format!("{url}: HTTP {}", answer.status())));
            }
            let bytes = crate::http::bounded_body(answer, 1024 * 1024)
                .await
                .map_err(|e| AuthError::Keys(format!("{url}: {e}")))?;
            serde_json::from_slice::<Value>(&bytes)
                .map_err(|e| AuthError::Keys(format!("{url}: not JSON: {e}")))
        };
        let metadata = get(self.config.openid_metadata_url.clone()).await?;
        let jwks_uri = metadata
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| AuthError::Keys("the metadata names no `jwks_uri`".to_owned()))?;
        checked_url(jwks_uri, self.config.allow_insecure_loopback)
            .map_err(|e| AuthError::Keys(e.to_string()))?;
        let jwks = get(jwks_uri.to_owned()).await?;
        let keys = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| AuthError::Keys("the key set has no `keys`".to_owned()))?;
        Ok(keys
            .iter()
            .filter(|k| k.get("kty").and_then(Value::as_str) == Some("RSA"))
            .filter_map(|k| {
                Some(Key {
                    kid: k.get("kid")?.as_str()?.to_owned(),
                    n: k.get("n")?.as_str()?.to_owned(),
                    e: k.get("e")?.as_str()?.to_owned(),
                    endorsements: k.get("endorsements").and_then(Value::as_array).map(|a| {
                        a.iter()
                            .filter_map(|e| e.as_str().map(str::to_owned))
                            .collect()
                    }),
                })
            })
            .collect())
    }
}
