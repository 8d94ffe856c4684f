//! Rebuilds when the embedded invokers change.

fn main() {
    for path in [
        "../../invokers/node/bin",
        "../../invokers/node/lib",
        "../../invokers/node/package.json",
        "../../invokers/node/package-lock.json",
        "../../invokers/python/motif",
        "../../invokers/python/requirements.txt",
        "../../invokers/wit",
    ] {
        println!("cargo::rerun-if-changed={path}");
    }
}
