//! Fuzz target `parse_location`: the checks are in `tests/support/fuzz_checks.rs`, shared with
//! `tests/fuzz_regressions.rs`, which replays every input this target found.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/fuzz_checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    checks::location(&String::from_utf8_lossy(data));
});
