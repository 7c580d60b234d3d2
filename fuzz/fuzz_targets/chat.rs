//! What Slack and Teams post to groupgate, on any bytes: the Slack
//! interaction parser, the Teams activity parser, the Slack signature check
//! and the action-token check each give a value or an error, never a panic.
#![no_main]

use groupgate_chat::TokenKey;
use groupgate_core::Secret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = groupgate_chat::slack::parse_interaction(data);
    let _ = groupgate_chat::teams::parse_activity(data);
    let secret = Secret::new("fuzzing-signing-secret");
    let text = String::from_utf8_lossy(data);
    let (timestamp, signature) = text.split_once('\n').unwrap_or((&text, ""));
    let _ = groupgate_chat::slack::verify_signature(
        &secret,
        Some(timestamp),
        Some(signature),
        data,
        1_700_000_000,
    );
    if let Ok(key) = TokenKey::new(Secret::new("k".repeat(40))) {
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let _ = key.verify(&text, now, Some("RITM0010001"));
    }
});
