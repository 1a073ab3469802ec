//! Fuzz target: see `fuzz/harness/text_parsers.rs`.
#![no_main]

#[path = "../harness/text_parsers.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
