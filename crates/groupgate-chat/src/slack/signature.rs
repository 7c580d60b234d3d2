//! Slack's request signing (v0): every request Slack sends is checked
//! before anything in it is read.

use groupgate_core::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a request's timestamp may be from now (Slack's own advice).
pub const MAX_SKEW_SECONDS: i64 = 300;

/// Why a request is refused (each answered with 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A header is missing.
    #[error("the request has no `{0}` header")]
    Missing(&'static str),
    /// The timestamp is not a number.
    #[error("`X-Slack-Request-Timestamp` is not a number")]
    BadTimestamp,
    /// Too old or from the future: a possible replay.
    #[error("the request is {0} s away from now (at most {MAX_SKEW_SECONDS} s): a possible replay")]
    Stale(i64),
    /// The signature does not match the body and the signing secret.
    #[error("the signature does not match: not from Slack, or the body was changed")]
    Mismatch,
}

/// Checks a request from Slack: `timestamp` and `signature` are the
/// `X-Slack-Request-Timestamp` and `X-Slack-Signature` headers, `body` the
/// raw bytes received, `now` the time in Unix seconds.
///
/// ```
/// use groupgate_chat::slack::verify_signature;
/// use groupgate_core::Secret;
/// let secret = Secret::new("test_signing_secret_123");
/// let ok = verify_signature(&secret, Some("1700000000"),
///     Some("v0=c9ba1904d67c9dd578754d71820988c119dff5ef06117659ca6ee552fda9f355"),
///     b"hello=world", 1700000100);
/// assert!(ok.is_ok());
/// ```
pub fn verify_signature(
    secret: &Secret,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let timestamp = timestamp.ok_or(SignatureError::Missing("X-Slack-Request-Timestamp"))?;
    let signature = signature.ok_or(SignatureError::Missing("X-Slack-Signature"))?;
    let at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    let skew = now.saturating_sub(at);
    if skew.abs() > MAX_SKEW_SECONDS {
        return Err(SignatureError::Stale(skew));
    }
    let given = signature
        .trim()
        .strip_prefix("v0=")
        .and_then(decode_hex)
        .ok_or(SignatureError::Mismatch)?;
    let mut mac = mac(secret);
    mac.update(b"v0:");
    mac.update(timestamp.trim().as_bytes());
    mac.update(b":");
    mac.update(body);
    // Constant time.
    mac.verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

/// The `X-Slack-Signature` of `body` at `timestamp` (for tests and the
/// emulator: what Slack would send).
pub fn sign(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let mut out = String::from("v0=");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[expect(
    clippy::expect_used,
    reason = "HMAC takes keys of any length: `new_from_slice` cannot fail"
)]
fn mac(secret: &Secret) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC accepts any key length")
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// API-NOTES.md part C6's vectors.
    #[test]
    fn the_documented_vectors() {
        let secret = Secret::new("test_signing_secret_123");
        assert_eq!(
            sign(&secret, 1700000000, b"hello=world"),
            "v0=c9ba1904d67c9dd578754d71820988c119dff5ef06117659ca6ee552fda9f355"
        );
        let body = "payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A%22U0APPROVER%22%7D%2C%22actions%22%3A%5B%7B%22action_id%22%3A%22approve%22%2C%22value%22%3A%22RITM0010001%22%7D%5D%7D";
        assert_eq!(
            sign(&secret, 1700000000, body.as_bytes()),
            "v0=ae20b62c9dd3c22f6392031df87b77b1c6de8c112013827933340e1fc159e220"
        );
    }

    #[test]
    fn good_wrong_secret_stale_and_altered() {
        let secret = Secret::new("s3cret-signing");
        let body = b"payload=%7B%7D";
        let sig = sign(&secret, 1_700_000_000, body);
        let check = |s: &Secret, t: &str, sig: &str, b: &[u8], now: i64| {
            verify_signature(s, Some(t), Some(sig), b, now)
        };
        assert_eq!(
            check(&secret, "1700000000", &sig, body, 1_700_000_299),
            Ok(())
        );
        assert_eq!(
            check(
                &Secret::new("other"),
                "1700000000",
                &sig,
                body,
                1_700_000_000
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(&secret, "1700000000", &sig, body, 1_700_000_301),
            Err(SignatureError::Stale(301))
        );
        assert_eq!(
            check(
                &secret,
                "1700000000",
                &sig,
                b"payload=%7B%22a%22%7D",
                1_700_000_000
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(&secret, "1700000001", &sig, body, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(&secret, None, Some(&sig), body, 0),
            Err(SignatureError::Missing("X-Slack-Request-Timestamp"))
        );
        assert_eq!(
            check(&secret, "soon", &sig, body, 0),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(
            check(&secret, "1700000000", "v0=zz", body, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
    }
}
