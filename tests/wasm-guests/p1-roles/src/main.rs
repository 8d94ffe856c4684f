//! A WASI preview 1 command module, served by the wasm host under the command contract
//! (CONTRACT.md §8): the body on stdin, the CGI environment, the response on stdout. The
//! host passes the function's name as `argv[0]`, which chooses the role (as busybox
//! does), so one module plays every http role of `tests/contract/roles.toml` and the
//! cases the wasm host's own tests need.

use std::io::{Read, Write};

fn main() {
    let role = std::env::args().next().unwrap_or_default();
    let mut body = Vec::new();
    std::io::stdin().read_to_end(&mut body).expect("stdin reads");
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let mut out = std::io::stdout();
    match role.as_str() {
        "echo" => out.write_all(&body).expect("stdout writes"),
        "request-info" => {
            let fields = [
                ("method", env("REQUEST_METHOD")),
                ("path", env("PATH_INFO")),
                ("query", env("QUERY_STRING")),
                ("content_type", env("CONTENT_TYPE")),
                ("test_header", env("HTTP_X_MOTIF_TEST")),
                ("hop", env("HTTP_X_HOP")),
                ("k_service", env("K_SERVICE")),
                ("k_revision", env("K_REVISION")),
                ("k_configuration", env("K_CONFIGURATION")),
                ("traceparent", env("TRACEPARENT")),
            ];
            let members: Vec<String> =
                fields.iter().map(|(k, v)| format!("\"{k}\":{}", json_string(v))).collect();
            write!(out, "{{{}}}", members.join(",")).expect("stdout writes");
        }
        "fail" => {
            eprintln!("boom");
            std::process::exit(3);
        }
        "sleep" => {
            // Outlives any timeout the cases set; the host's epoch deadline stops it.
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "slow" => {
            std::thread::sleep(std::time::Duration::from_secs(1));
            write!(out, "done").expect("stdout writes");
        }
        "environment" => {
            let names: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
            write!(out, "{}", names.join(",")).expect("stdout writes");
        }
        "files" => match std::fs::read("/etc/passwd") {
            Ok(_) => write!(out, "read /etc/passwd").expect("stdout writes"),
            Err(e) => {
                eprintln!("no file: {e}");
                std::process::exit(1);
            }
        },
        other => {
            eprintln!("no role `{other}`");
            std::process::exit(2);
        }
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
