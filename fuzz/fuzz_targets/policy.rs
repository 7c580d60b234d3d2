//! The policy loader (YAML and JSON, bounded), and lint, on any text: an
//! error or a policy, never a panic, an abort or a stall.
#![no_main]

use groupgate_core::input::Limits;
use groupgate_core::{CompiledPolicy, PolicyFormat, lint_policy_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::small();
    for format in [PolicyFormat::Yaml, PolicyFormat::Json] {
        let _ = CompiledPolicy::from_str_with_limits(text, format, "fuzz.yaml", &limits);
    }
    let _ = lint_policy_text(text, PolicyFormat::Yaml);
});
