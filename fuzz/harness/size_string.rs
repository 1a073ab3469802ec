//! Size strings (`--partition-size 5KB`, `Partitioning::size("64MiB")`): any text gives a
//! size of at least one byte or an `InvalidArgument` naming the text, never a panic; the
//! two entry points agree, and plain integers parse exactly.
//!
//! Shared by `fuzz/fuzz_targets/size_string.rs` and the replay in `tests/fuzz_regressions.rs`.

use lsstseries::io::parse_size;
use lsstseries::{Error, Partitioning};

/// One input; panics on a failure.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = parse_size(text);
    match &parsed {
        Ok(bytes) => assert!(*bytes >= 1, "size {text:?} parsed to {bytes}"),
        Err(Error::InvalidArgument(message)) => {
            assert!(message.contains(text), "{message:?} does not name {text:?}")
        }
        Err(other) => panic!("size {text:?}: unexpected error kind {other:?}"),
    }
    match Partitioning::size(text) {
        Ok(Partitioning::Bytes(b)) => assert_eq!(parsed.as_ref().ok(), Some(&b), "{text:?}"),
        Ok(other) => panic!("Partitioning::size({text:?}) gave {other:?}"),
        Err(_) => assert!(parsed.is_err(), "{text:?}"),
    }
    // A bare integer below 2^53 is that many bytes, exactly.
    let t = text.trim();
    if !t.is_empty() && t.len() <= 15 && t.bytes().all(|b| b.is_ascii_digit()) {
        let n: usize = t.parse().unwrap();
        if n >= 1 {
            assert_eq!(parsed.as_ref().ok(), Some(&n), "{text:?}");
        }
    }
}
