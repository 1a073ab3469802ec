//! Links this crate's programs and tests without debug information: each would otherwise
//! carry DataFusion's and Ballista's (about 2 GB per binary in a debug build).

fn main() {
    for kind in ["bins", "tests", "examples"] {
        println!("cargo:rustc-link-arg-{kind}=-Wl,--strip-debug");
    }
}
