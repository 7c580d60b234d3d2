//! The ServiceNow RITM notification parser on any bytes: a notification or
//! an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = groupgate_servicenow::parse_ritm_created(data);
});
