//! The layers of ARCHITECTURE.md hold literally: a module names only its own layer and the
//! layers below it (tests inside a module may reach up). A new upward `use` fails here.

use std::collections::BTreeMap;
use std::path::Path;

/// Layer of each top-level module of `src/`, bottom (0) to top.
fn layer_of(module: &str) -> Option<(usize, &'static str)> {
    Some(match module {
        "error" | "format" | "rng" => (0, "foundation"),
        "executor" => (1, "execution"),
        "io" => (2, "io"),
        "analysis" | "lightcurve" => (3, "analysis"),
        "plan" => (4, "plan"),
        "optimizer" => (5, "optimizer"),
        "physical" => (6, "physical"),
        "explain" => (7, "explain"),
        "dashboard" => (8, "dashboard"),
        "frame" | "ensemble" | "cluster" | "prelude" => (9, "user API"),
        _ => return None,
    })
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_reaches_up() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut checked = 0;
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let top = rel.split(['/', '.']).next().unwrap_or("");
        let Some((own, _)) = layer_of(top) else {
            continue; // lib.rs wires everything; the CLI sits on top.
        };
        checked += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for line in code.lines().map(str::trim).filter(|l| !l.starts_with("//")) {
            if line.contains("crate::{") {
                // Grouped paths would hide the module names this test reads.
                violations
                    .entry(rel.clone())
                    .or_default()
                    .push(format!("grouped `crate::{{...}}` import: {line}"));
            }
            for (i, _) in line.match_indices("crate::") {
                let name: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if let Some((other, layer)) = layer_of(&name) {
                    if other > own {
                        violations
                            .entry(rel.clone())
                            .or_default()
                            .push(format!("crate::{name} ({layer}): {line}"));
                    }
                }
            }
        }
    }
    assert!(
        checked > 40,
        "only {checked} files checked: is the layer map stale?"
    );
    assert!(
        violations.is_empty(),
        "modules reaching up a layer: {violations:#?}"
    );
}
