//! Fuzz target: see `fuzz/harness/size_string.rs`.
#![no_main]

#[path = "../harness/size_string.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
