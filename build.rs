//! Embeds the shipped suites (`suites/*.yaml`) and profiles (`profiles/*.yaml`) so an installed
//! binary runs them from anywhere.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    embed("suites", "shipped_suites.rs");
    embed("profiles", "shipped_profiles.rs");
}

/// Writes `OUT_DIR/out` as an array expression of `(path, include_str!(...))` for `dir/*.yaml`.
fn embed(dir: &str, out_name: &str) {
    println!("cargo::rerun-if-changed={dir}");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let mut out = String::from("&[\n");
    for f in &files {
        println!("cargo::rerun-if-changed={}", f.display());
        let shown = f.to_str().expect("paths are UTF-8");
        let full = Path::new(&manifest).join(f);
        writeln!(
            out,
            "    ({shown:?}, include_str!({:?})),",
            full.display().to_string()
        )
        .expect("writing to a String");
    }
    out.push(']');
    let dest = Path::new(&std::env::var("OUT_DIR").expect("set by cargo")).join(out_name);
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
