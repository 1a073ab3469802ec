//! Every other parser of user text in the library: batch modes, structure-function
//! estimators and binnings (`FromStr`), feature names (`Feature::from_name`), function
//! names (`FunctionRegistry::get`), optimizer rule names, and the literal prefix of glob
//! patterns (`SourcePaths::roots`). Each either refuses the text with an error or gives a
//! value that prints back as the same text; none panics.
//!
//! Shared by `fuzz/fuzz_targets/text_parsers.rs` and the replay in `tests/fuzz_regressions.rs`.

use lsstseries::analysis::structure_function::{Binning, Estimator};
use lsstseries::analysis::Feature;
use lsstseries::io::SourcePaths;
use lsstseries::optimizer::Optimizer;
use lsstseries::{BatchMode, Error, FunctionRegistry};
use std::path::Path;
use std::sync::OnceLock;

fn registry() -> &'static FunctionRegistry {
    static REGISTRY: OnceLock<FunctionRegistry> = OnceLock::new();
    REGISTRY.get_or_init(FunctionRegistry::with_builtins)
}

fn refused<T: std::fmt::Debug>(what: &str, text: &str, r: Result<T, Error>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(Error::InvalidArgument(m)) => {
            assert!(m.contains(text), "{what}: {m:?} does not name {text:?}");
            None
        }
        Err(e) => panic!("{what} {text:?}: unexpected error kind {e:?}"),
    }
}

/// One input; panics on a failure.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    if let Some(mode) = refused("mode", text, text.parse::<BatchMode>()) {
        // Aliases (map, shuffle, per_partition) print as their canonical name.
        assert_eq!(mode.to_string().parse::<BatchMode>().ok(), Some(mode));
    }
    if let Some(e) = refused("estimator", text, text.parse::<Estimator>()) {
        assert_eq!(e.name(), text);
    }
    if let Some(b) = refused("binning", text, text.parse::<Binning>()) {
        assert!(matches!(
            b,
            Binning::Size | Binning::Length | Binning::LogLength
        ));
    }
    if let Some(f) = Feature::from_name(text) {
        assert_eq!(f.name(), text);
        assert!(f.check().is_ok(), "{text:?} gave an invalid feature {f:?}");
    }
    match registry().get(text) {
        Ok(f) => assert_eq!(f.name(), text),
        Err(Error::UnknownFunction { name, known }) => {
            assert_eq!(name, text);
            assert!(!known.iter().any(|k| k == text));
        }
        // `per_band(f)` of a known function with many rows per lightcurve.
        Err(Error::Function { .. }) if text.starts_with("per_band(") => {}
        Err(e) => panic!("function {text:?}: unexpected error {e:?}"),
    }
    let all = Optimizer::default().rule_names().len();
    let left = Optimizer::default().without(text).rule_names();
    assert!(left.len() == all || left.len() + 1 == all);

    // Glob prefixes: a root is a prefix of the path, free of wildcards, never empty.
    let paths = SourcePaths::new(text.split('\n'));
    let roots = paths.roots();
    assert_eq!(roots.len(), paths.len());
    for (root, path) in roots.iter().zip(paths.as_slice()) {
        assert!(!root.as_os_str().is_empty());
        if root != Path::new(".") {
            assert!(
                path.starts_with(root),
                "{root:?} is not a prefix of {path:?}"
            );
        }
        let s = root.to_string_lossy();
        assert!(!s.contains(['*', '?', '[']), "root {root:?} of {path:?}");
    }
}
