//! Runs every contract case and lifecycle check against every invoker that implements
//! the roles they need. `cargo test -p motif-contract-suite -- <filter>` runs a subset.

use libtest_mimic::{Arguments, Failed, Trial};
use motif_contract_suite::{
    Invoker, Suite, interop, lifecycle, native_binaries, python_roles_wasm, repo_root, run_case,
    rust_roles_wasm, suite_dir, wasm_guests,
};

/// Every invoker, by the name of its directory under `functions/`.
const INVOKERS: [&str; 7] = [
    "command",
    "wasm",
    "rust",
    "rust-wasm",
    "node",
    "python",
    "python-wasm",
];

fn main() {
    let args = Arguments::from_args();
    let dir = suite_dir();
    let suite = Suite::load(&dir).expect("the suite's cases load");
    let native = native_binaries().expect("motif-invoker and the Rust roles build");
    let invoker_bin = match std::env::var_os("MOTIF_INVOKER_BIN") {
        Some(bin) => bin.into(),
        None => native.join("motif-invoker"),
    };
    let guests = wasm_guests().expect("the wasm guests build");
    let rust_wasm = rust_roles_wasm().expect("the Rust roles build for wasm32-wasip2");
    let python_wasm =
        python_roles_wasm(&invoker_bin).expect("the Python roles build into components");
    let vars = [
        ("motif-invoker", invoker_bin.display().to_string()),
        ("wasm-guests", guests.display().to_string()),
        ("rust-roles", native.display().to_string()),
        ("rust-roles-wasm", rust_wasm.display().to_string()),
        ("python-roles-wasm", python_wasm.display().to_string()),
        ("repo", repo_root().display().to_string()),
    ];
    let invokers =
        INVOKERS.map(|name| Invoker::load(&dir, name, &vars).expect("the invoker's roles load"));

    let mut trials = Vec::new();
    for inv in &invokers {
        for case in &suite.cases {
            let (inv, case) = (inv.clone(), case.clone());
            let name = format!("{}::{}", inv.name, case.name);
            let ignored = !inv.implements(&case.function);
            trials.push(
                Trial::test(name, move || block_on(run_case(&inv, &case)))
                    .with_ignored_flag(ignored),
            );
        }
        for &check in lifecycle::CHECKS {
            let inv = inv.clone();
            let ignored = !lifecycle::roles(check).iter().all(|r| inv.implements(r));
            let name = format!("{}::lifecycle::{check}", inv.name);
            trials.push(
                Trial::test(name, move || block_on(lifecycle::run(check, &inv)))
                    .with_ignored_flag(ignored),
            );
        }
        let inv = inv.clone();
        let ignored = !inv.implements(interop::ROLE);
        let name = format!("{}::interop::cloudevents_sdk", inv.name);
        trials.push(
            Trial::test(name, move || block_on(interop::cloudevents_sdk(&inv)))
                .with_ignored_flag(ignored),
        );
    }
    libtest_mimic::run(&args, trials).exit();
}

fn block_on(f: impl std::future::Future<Output = Result<(), String>>) -> Result<(), Failed> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(f)
        .map_err(Failed::from)
}
