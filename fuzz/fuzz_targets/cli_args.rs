//! Fuzz target: see `fuzz/harness/cli_args.rs`.
#![no_main]

#[path = "../harness/cli_args.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
