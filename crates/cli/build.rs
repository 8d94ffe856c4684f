//! Rebuilds `motif` when the built-in templates change (they are embedded).

fn main() {
    println!("cargo::rerun-if-changed=../../templates");
}
