//! Signed checkpoints: an Ed25519 signature over "the trail up to record N
//! ends in hash H". Whoever can write the store cannot forge one without the
//! signing key, so a rewrite of any record a checkpoint covers is detected
//! even when every hash was recomputed. The key is a secret: it comes from
//! the environment or a file path, never from a settings file, and neither
//! it nor its bytes ever reach `Debug`, logs or the trail.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use std::fmt::Write as _;

/// The bytes a checkpoint signs.
pub fn checkpoint_message(covers: u64, covers_hash: &str) -> Vec<u8> {
    format!("groupgate-checkpoint-v1\n{covers}\n{covers_hash}\n").into_bytes()
}

/// A key that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not base64 or hex of the right length.
    #[error("{what} is not a 32-byte key written as base64 or hex ({found})")]
    Encoding {
        /// `signing key` or `public key`.
        what: &'static str,
        /// What was found (never the key material).
        found: String,
    },
    /// The bytes are not a valid Ed25519 public key.
    #[error("the public key is not a valid Ed25519 point")]
    Invalid,
}

fn decode_32(text: &str, what: &'static str) -> Result<[u8; 32], KeyError> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| KeyError::Encoding {
                what,
                found: "bad hex".to_owned(),
            })?
    } else {
        STANDARD.decode(text).map_err(|_| KeyError::Encoding {
            what,
            found: format!("{} characters, not base64", text.len()),
        })?
    };
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| KeyError::Encoding {
        what,
        found: format!("{} bytes", bytes.len()),
    })
}

fn key_id(public: &VerifyingKey) -> String {
    let digest = Sha256::digest(public.as_bytes());
    let mut out = String::with_capacity(16);
    for byte in digest.iter().take(8) {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The signing key for checkpoints. `Debug` shows only its key id.
///
/// ```
/// use groupgate_core::audit::{CheckpointKey, CheckpointVerifier};
/// let key = CheckpointKey::from_seed([7; 32]);
/// let (key_id, signature) = key.sign(41, "sha256:abc");
/// let verifier = CheckpointVerifier::from_text(&key.public_key_base64()).unwrap();
/// assert_eq!(verifier.key_id(), key_id);
/// assert!(verifier.verify(41, "sha256:abc", &signature));
/// assert!(!verifier.verify(41, "sha256:abd", &signature));
/// assert!(!format!("{key:?}").contains(&key.seed_base64()));
/// ```
#[derive(Clone)]
pub struct CheckpointKey {
    key: SigningKey,
}

impl fmt::Debug for CheckpointKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CheckpointKey({}, ***)",
            key_id(&self.key.verifying_key())
        )
    }
}

impl CheckpointKey {
    /// A key from its 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// A key from its seed written as base64 or hex (a key file's content, or
    /// `GROUPGATE_AUDIT_SIGNING_KEY`).
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        decode_32(text, "signing key").map(Self::from_seed)
    }

    /// The public key, base64, for `groupgate audit verify --public-key`.
    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(self.key.verifying_key().as_bytes())
    }

    /// The seed, base64: for writing a freshly generated key to its file.
    pub fn seed_base64(&self) -> String {
        STANDARD.encode(self.key.to_bytes())
    }

    /// Signs "up to `covers`, the trail ends in `covers_hash`": the key id
    /// and the signature (base64).
    pub fn sign(&self, covers: u64, covers_hash: &str) -> (String, String) {
        let signature = self.key.sign(&checkpoint_message(covers, covers_hash));
        (
            key_id(&self.key.verifying_key()),
            STANDARD.encode(signature.to_bytes()),
        )
    }
}

/// A public key that checks checkpoint signatures.
#[derive(Debug, Clone)]
pub struct CheckpointVerifier {
    key: VerifyingKey,
}

impl CheckpointVerifier {
    /// From the public key written as base64 or hex.
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        let bytes = decode_32(text, "public key")?;
        VerifyingKey::from_bytes(&bytes)
            .map(|key| Self { key })
            .map_err(|_| KeyError::Invalid)
    }

    /// The key id checkpoints signed by this key carry.
    pub fn key_id(&self) -> String {
        key_id(&self.key)
    }

    /// Whether `signature` (base64) signs `covers` / `covers_hash`.
    pub fn verify(&self, covers: u64, covers_hash: &str, signature: &str) -> bool {
        let Ok(bytes) = STANDARD.decode(signature.trim()) else {
            return false;
        };
        let Ok(signature) = Signature::from_slice(&bytes) else {
            return false;
        };
        self.key
            .verify(&checkpoint_message(covers, covers_hash), &signature)
            .is_ok()
    }
}
