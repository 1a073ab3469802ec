//! Fuzz target: see `fuzz/harness/parquet_open.rs`.
#![no_main]

#[path = "../harness/parquet_open.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
