//! Action tokens: what every approve or reject button carries, so a click is
//! accepted only for exactly the workflow, stage, binding and verdict the
//! card was drawn for, before its expiry, and once.
//!
//! A token is `v1.<payload>.<mac>`, both parts base64url: the payload is
//! the JSON of [`ActionClaims`] and the MAC is HMAC-SHA256 over the text
//! `v1.<payload>` with a key only the server holds. Nothing in it is secret
//! (it names a ticket and a stage); the MAC makes it unforgeable and
//! unalterable, the expiry bounds it, and the nonce lets a ledger refuse the
//! same click twice.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use groupgate_core::Secret;
use groupgate_core::workflow::Verdict;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// What a button approves or rejects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionClaims {
    /// The workflow (the ticket number).
    #[serde(rename = "w")]
    pub workflow: String,
    /// The stage.
    #[serde(rename = "s")]
    pub stage: String,
    /// The binding digest the card showed.
    #[serde(rename = "b")]
    pub binding: String,
    /// Approve or reject.
    #[serde(rename = "v")]
    pub verdict: Verdict,
    /// Not accepted after this instant.
    #[serde(rename = "e")]
    pub expires: DateTime<Utc>,
    /// Unique per card, so one click is accepted once.
    #[serde(rename = "n")]
    pub nonce: String,
}

impl ActionClaims {
    /// A stable id of this exact token (for a ledger of used ones).
    pub fn id(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.workflow,
            self.stage,
            self.nonce,
            match self.verdict {
                Verdict::Approve => "approve",
                Verdict::Reject => "reject",
            }
        )
    }
}

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token at all.
    #[error("the action token is malformed")]
    Malformed,
    /// Forged or altered: the MAC does not match.
    #[error("the action token was not issued by this groupgate, or was altered")]
    BadSignature,
    /// Past its expiry.
    #[error("the action token expired at {0}")]
    Expired(DateTime<Utc>),
    /// For another workflow than the one it was presented for.
    #[error("the action token is for `{0}`, not this request")]
    OtherWorkflow(String),
}

/// The server's key for action tokens (at least 32 bytes; from the
/// environment, like every secret).
#[derive(Clone)]
pub struct TokenKey(Secret);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(…)")
    }
}

/// Why a key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the action token key must be at least 32 bytes (it is {0}); generate one with `openssl rand -base64 48`"
)]
pub struct ShortKey(pub usize);

impl TokenKey {
    /// A key from secret text of at least 32 bytes.
    pub fn new(secret: Secret) -> Result<Self, ShortKey> {
        let len = secret.expose().len();
        if len < 32 {
            return Err(ShortKey(len));
        }
        Ok(Self(secret))
    }

    #[expect(
        clippy::expect_used,
        reason = "HMAC takes keys of any length: `new_from_slice` cannot fail"
    )]
    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose().as_bytes())
            .expect("HMAC accepts any key length")
    }

    /// Signs `claims` into a token.
    ///
    /// ```
    /// use groupgate_chat::{ActionClaims, TokenKey};
    /// use groupgate_core::{Secret, workflow::Verdict};
    /// let key = TokenKey::new(Secret::new("x".repeat(40))).unwrap();
    /// let claims = ActionClaims {
    ///     workflow: "RITM0010001".into(), stage: "manager".into(), binding: "sha256:ab".into(),
    ///     verdict: Verdict::Approve, expires: "2026-12-01T00:00:00Z".parse().unwrap(),
    ///     nonce: "n1".into(),
    /// };
    /// let token = key.sign(&claims);
    /// let now = "2026-11-30T00:00:00Z".parse().unwrap();
    /// assert_eq!(key.verify(&token, now, None).unwrap(), claims);
    /// ```
    pub fn sign(&self, claims: &ActionClaims) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let signed = format!("v1.{payload}");
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signed}.{tag}")
    }

    /// Checks a token (the MAC in constant time, then the expiry, then — when
    /// given — that it is for `workflow`) and returns its claims.
    pub fn verify(
        &self,
        token: &str,
        now: DateTime<Utc>,
        workflow: Option<&str>,
    ) -> Result<ActionClaims, TokenError> {
        if token.len() > 2048 {
            return Err(TokenError::Malformed);
        }
        let (signed, tag) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let payload = signed.strip_prefix("v1.").ok_or(TokenError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| TokenError::BadSignature)?;
        let claims: ActionClaims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(TokenError::Malformed)?;
        if now > claims.expires {
            return Err(TokenError::Expired(claims.expires));
        }
        if let Some(w) = workflow
            && w != claims.workflow
        {
            return Err(TokenError::OtherWorkflow(claims.workflow));
        }
        Ok(claims)
    }
}

/// A new random nonce for a card.
pub fn nonce() -> String {
    use rand::TryRngCore;
    let mut bytes = [0u8; 12];
    // The OS generator; on the rare failure, the time keeps nonces distinct.
    if rand::rngs::OsRng.try_fill_bytes(&mut bytes).is_err() {
        let t = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        bytes[..8].copy_from_slice(&t.to_le_bytes());
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key(k: &str) -> TokenKey {
        TokenKey::new(Secret::new(k.repeat(40))).unwrap()
    }

    fn claims() -> ActionClaims {
        ActionClaims {
            workflow: "RITM0010001".into(),
            stage: "data-owner".into(),
            binding: "sha256:00ff".into(),
            verdict: Verdict::Approve,
            expires: "2026-12-01T00:00:00Z".parse().unwrap(),
            nonce: nonce(),
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-30T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn genuine_tokens_verify_and_everything_else_is_refused() {
        let k = key("a");
        let c = claims();
        let t = k.sign(&c);
        assert_eq!(k.verify(&t, now(), Some("RITM0010001")).unwrap(), c);
        // Forged with another key.
        assert_eq!(
            key("b").verify(&t, now(), None),
            Err(TokenError::BadSignature)
        );
        // Altered: the verdict flipped in the payload, the MAC kept.
        let mut flipped = c.clone();
        flipped.verdict = Verdict::Reject;
        let other = k.sign(&flipped);
        let (_, mac) = t.rsplit_once('.').unwrap();
        let (payload, _) = other.rsplit_once('.').unwrap();
        assert_eq!(
            k.verify(&format!("{payload}.{mac}"), now(), None),
            Err(TokenError::BadSignature)
        );
        // Expired.
        let late = "2026-12-01T00:00:01Z".parse().unwrap();
        assert!(matches!(
            k.verify(&t, late, None),
            Err(TokenError::Expired(_))
        ));
        // Presented for another workflow.
        assert_eq!(
            k.verify(&t, now(), Some("RITM0010002")),
            Err(TokenError::OtherWorkflow("RITM0010001".into()))
        );
        // Garbage.
        for bad in ["", "v1", "v2.abc.def", "v1.%%%.xyz", &"v1.a.".repeat(1000)] {
            assert!(k.verify(bad, now(), None).is_err(), "{bad}");
        }
        // Nonces differ; ids name the verdict.
        assert_ne!(nonce(), nonce());
        assert!(c.id().ends_with("/approve"));
    }

    #[test]
    fn short_keys_are_refused() {
        assert_eq!(
            TokenKey::new(Secret::new("short")).unwrap_err(),
            ShortKey(5)
        );
    }
}
