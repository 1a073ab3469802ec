//! The CLI's argument parsing: any argument list gives a command or clap's error (whose
//! message renders), never a panic; a parsed command's derived settings (column map,
//! partitioning, structure-function options and their validation, generator
//! configuration, completion script) are computed without touching files.
//!
//! Input: the arguments after `lsstseries`, separated by NUL bytes when the input holds
//! one, else by whitespace.
//!
//! Shared by `fuzz/fuzz_targets/cli_args.rs` and the replay in `tests/fuzz_regressions.rs`.

// The binary's own argument definitions (its other items are unused here).
#[allow(dead_code)]
#[path = "../../src/bin/lsstseries/args.rs"]
mod args;

use args::{Cli, Command};
use clap::error::{ContextKind, ContextValue};
use clap::{CommandFactory, Parser};
use lsstseries::analysis::structure_function::validate;

/// One input; panics on a failure.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let words: Vec<&str> = if text.contains('\0') {
        text.split('\0').collect()
    } else {
        text.split_whitespace().collect()
    };
    let argv = std::iter::once("lsstseries").chain(words);
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            // What the binary prints: clap's message, or the unknown command's name.
            let _ = e.render().to_string();
            if let Some(ContextValue::String(name)) = e.get(ContextKind::InvalidSubcommand) {
                assert!(text.contains(name.as_str()), "{name:?} not in {text:?}");
            }
            return;
        }
    };
    let source = match &cli.command {
        Some(Command::Batch { source, .. })
        | Some(Command::Explain { source, .. })
        | Some(Command::Info { source, .. })
        | Some(Command::Head { source, .. })
        | Some(Command::DayGapOffset { source, .. }) => Some(source),
        Some(Command::Sf2(a)) => {
            let _ = validate(&a.options());
            Some(&a.source)
        }
        Some(Command::BinSources {
            source,
            window,
            offset,
            ..
        }) => {
            let _ = lsstseries::analysis::BinSources::new(*window, *offset);
            Some(source)
        }
        Some(Command::Generate(a)) => {
            let config = a.config();
            assert!(!config.bands.is_empty() && config.bands.iter().all(|b| !b.is_empty()));
            None
        }
        Some(Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "lsstseries", &mut script);
            assert!(!script.is_empty());
            None
        }
        Some(Command::Functions) | None => None,
    };
    if let Some(source) = source {
        let _ = source.column_map();
        let _ = source.partitioning();
        if let Some(bands) = &source.bands {
            assert!(bands.0.iter().all(|b| !b.is_empty()));
        }
    }
}
