//! A `wasi:http` proxy whose behaviour the request's path chooses:
//!
//! | path            | does                                                        |
//! |-----------------|-------------------------------------------------------------|
//! | `/`, `/hello`   | `hello from wasi:http` (the benchmarks' hello)              |
//! | `/echo`         | the body back, with `x-method` and `x-path` headers         |
//! | `/trap`         | panics (a trap)                                             |
//! | `/loop`         | spins forever                                               |
//! | `/memory`       | allocates until memory runs out                             |
//! | `/stack`        | recurses until the stack runs out                           |
//! | `/file`         | tries to read `/etc/passwd`                                 |
//! | `/socket`       | tries to open a TCP connection                              |
//! | `/env`          | counts its environment variables                            |
//! | `/state`        | bumps a global counter and returns it                       |
//! | `/fetch?URL`    | GETs URL through `wasi:http/outgoing-handler`               |
//! | `/none`         | returns without a response                                  |
//! | `/big?N`        | a body of N bytes                                           |
//! | `/late-trap`    | sends a whole response, then panics                         |

use std::sync::atomic::{AtomicU32, Ordering};

use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingRequest,
    OutgoingResponse, ResponseOutparam, Scheme,
};
use wasip2::io::streams::StreamError;

struct Fixture;

static STATE: AtomicU32 = AtomicU32::new(0);

impl Guest for Fixture {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let target = request.path_with_query().unwrap_or_default();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        match path {
            "/" | "/hello" => respond(out, 200, &[], b"hello from wasi:http\n"),
            "/echo" => {
                let method = method_name(&request.method());
                let content_type = request
                    .headers()
                    .get("content-type")
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| b"application/octet-stream".to_vec());
                let body = read_body(&request);
                let headers = [
                    ("content-type", content_type),
                    ("x-method", method.into_bytes()),
                    ("x-path", path.as_bytes().to_vec()),
                ];
                respond(out, 200, &headers, &body)
            }
            "/trap" => panic!("the fixture traps"),
            "/loop" => {
                let mut n = 0u64;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "/memory" => {
                let mut hoard = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "/stack" => {
                let depth = recurse(std::hint::black_box(1));
                respond(out, 200, &[], depth.to_string().as_bytes())
            }
            "/file" => {
                let answer = match std::fs::read("/etc/passwd") {
                    Ok(bytes) => format!("read {} bytes", bytes.len()),
                    Err(e) => format!("denied: {e}"),
                };
                respond(out, 200, &[], answer.as_bytes())
            }
            "/socket" => {
                let answer = match std::net::TcpStream::connect("127.0.0.1:80") {
                    Ok(_) => "connected".to_owned(),
                    Err(e) => format!("denied: {e}"),
                };
                respond(out, 200, &[], answer.as_bytes())
            }
            "/env" => {
                let count = std::env::vars().count();
                respond(out, 200, &[], count.to_string().as_bytes())
            }
            "/state" => {
                let n = STATE.fetch_add(1, Ordering::SeqCst) + 1;
                respond(out, 200, &[], n.to_string().as_bytes())
            }
            "/fetch" => match fetch(query) {
                Ok((status, body)) => {
                    let mut answer = format!("{status} ").into_bytes();
                    answer.extend_from_slice(&body);
                    respond(out, 200, &[], &answer)
                }
                Err(e) => respond(out, 502, &[], e.as_bytes()),
            },
            "/none" => drop(out),
            "/big" => {
                let n: usize = query.parse().unwrap_or(0);
                respond(out, 200, &[], &vec![b'x'; n])
            }
            "/late-trap" => {
                respond(out, 200, &[], b"complete");
                panic!("the fixture traps after its response")
            }
            _ => respond(out, 404, &[], b"no such fixture path"),
        }
    }
}

fn recurse(n: u64) -> u64 {
    let pad = std::hint::black_box([n; 64]);
    if pad[0] == 0 {
        return 0;
    }
    recurse(n + 1) + pad[63]
}

fn method_name(m: &Method) -> String {
    match m {
        Method::Get => "GET".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Head => "HEAD".into(),
        Method::Patch => "PATCH".into(),
        Method::Options => "OPTIONS".into(),
        Method::Connect => "CONNECT".into(),
        Method::Trace => "TRACE".into(),
        Method::Other(s) => s.clone(),
    }
}

fn read_body(request: &IncomingRequest) -> Vec<u8> {
    let body = request.consume().expect("the body is consumed once");
    let bytes = read_stream(&body);
    IncomingBody::finish(body);
    bytes
}

fn read_stream(body: &IncomingBody) -> Vec<u8> {
    let stream = body.stream().expect("the stream is taken once");
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => panic!("reading the body: {e:?}"),
        }
    }
    drop(stream);
    bytes
}

fn respond(out: ResponseOutparam, status: u16, headers: &[(&str, Vec<u8>)], body: &[u8]) {
    let fields = Fields::new();
    for (name, value) in headers {
        fields
            .append(name, value)
            .expect("the fixture's headers are valid");
    }
    if headers.is_empty() {
        fields
            .append("content-type", b"text/plain")
            .expect("a valid header");
    }
    let response = OutgoingResponse::new(fields);
    response.set_status_code(status).expect("a valid status");
    let outgoing = response.body().expect("the body is taken once");
    ResponseOutparam::set(out, Ok(response));
    let stream = outgoing.write().expect("the stream is taken once");
    for chunk in body.chunks(4096) {
        stream
            .blocking_write_and_flush(chunk)
            .expect("the host takes the body");
    }
    drop(stream);
    OutgoingBody::finish(outgoing, None).expect("the body finishes");
}

/// GETs `url` (`http://host:port/path`), returning the status and body, or the error.
fn fetch(url: &str) -> Result<(u16, Vec<u8>), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("not an http URL: {url}"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let request = OutgoingRequest::new(Fields::new());
    request.set_scheme(Some(&Scheme::Http)).ok();
    request.set_authority(Some(authority)).ok();
    request.set_path_with_query(Some(path)).ok();
    let pending = outgoing_handler::handle(request, None).map_err(|e| format!("error: {e:?}"))?;
    pending.subscribe().block();
    let response = pending
        .get()
        .expect("ready after block")
        .expect("taken once")
        .map_err(|e| format!("error: {e:?}"))?;
    let status = response.status();
    let body = response.consume().expect("the body is consumed once");
    let bytes = read_stream(&body);
    IncomingBody::finish(body);
    Ok((status, bytes))
}

wasip2::http::proxy::export!(Fixture);
