//! The audit trail reader and verifier on any text: a report or an error,
//! never a panic.
#![no_main]

use groupgate_core::audit::{VerifyOptions, verify_trail};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = verify_trail(text, &VerifyOptions::default());
});
