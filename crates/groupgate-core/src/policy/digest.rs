//! The policy digest: SHA-256 over the canonical JSON form of the parsed document.

use super::PolicyDocument;
use sha2::{Digest, Sha256};

/// `sha256:<hex>` of the canonical JSON of `doc`. Formatting, comments, key
/// order and YAML-vs-JSON do not change it; any change of meaning does.
pub(crate) fn policy_digest(doc: &PolicyDocument) -> String {
    // Serialising plain data structs into a Vec cannot fail; fall back to the
    // debug form rather than panic if it ever did.
    let canonical = serde_json::to_vec(doc).unwrap_or_else(|_| format!("{doc:?}").into_bytes());
    hex_digest(&canonical)
}

/// `sha256:<hex>` of `bytes`.
pub(crate) fn hex_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for byte in hash {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}
