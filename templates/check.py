#!/usr/bin/env python3
"""Checks the built-in templates for real: renders each one, runs its own tests, builds
it and serves it behind its invoker, and sends it a request or an event.

    python3 templates/check.py                      # every template
    python3 templates/check.py rust/http js         # some (LANGUAGE or LANGUAGE/TEMPLATE)
    python3 templates/check.py --param greeting=howdy --param reply_type=com.example.hi
    python3 templates/check.py --keep /tmp/rendered # keep what was rendered

It renders the way `motif create` does (minijinja there, Jinja2 here: the templates use
only what both share; strict undefined variables, trailing newlines kept, the executable
bit kept) with the name `hello-world`, the parameters' defaults (or `--param`s) and
`motif_function` pointing at this checkout's `invokers/rust`.

Needs: jinja2 (not a project dependency: `pip install jinja2`), cargo with the
wasm32-wasip2 target, node and npm, python3 with the Python invoker's requirements and
componentize-py, clang with wasi-libc, cc and make. It uses this checkout's
`target/debug/motif-invoker` (building it if absent) and a shared Cargo target directory
(`$CARGO_TARGET_DIR`, default /tmp/motif-template-target) for the Rust templates.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parent
ROOT = TEMPLATES.parent
INVOKER = ROOT / "target" / "debug" / "motif-invoker"
NAME = "hello-world"
LANGUAGES = ["rust", "rust-wasm", "js", "ts", "python", "python-wasm", "c-wasm", "command"]
KINDS = ["http", "cloudevent"]
PARAM_TYPES = {"string": str, "integer": int, "bool": bool, "enum": str}
# What the reply event's type is when the function does not choose it: the command
# contract's default (CONTRACT.md §8), for the languages whose handler sends data only.
DATA_ONLY = {"c-wasm", "command"}


class Failed(Exception):
    pass


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(argv, cwd, env=None, timeout=1800):
    log(f"  $ {' '.join(map(str, argv))}")
    done = subprocess.run(
        list(map(str, argv)), cwd=cwd, env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
    )
    if done.returncode != 0:
        raise Failed(f"`{' '.join(map(str, argv))}` exited {done.returncode}:\n{done.stdout[-4000:]}")
    return done.stdout


# -- the manifest and rendering ------------------------------------------------------

def read_manifest(folder):
    manifest = tomllib.loads((folder / "manifest.toml").read_text())
    known = {"description", "kind", "handler", "hints", "params", "env"}
    if set(manifest) - known:
        raise Failed(f"unknown manifest keys {set(manifest) - known}")
    if "\n" in manifest["description"] or not manifest["description"]:
        raise Failed("the description is not one line")
    if manifest["kind"] not in KINDS:
        raise Failed(f"kind `{manifest['kind']}`")
    if set(manifest.get("hints", {})) - {"build", "run", "test"}:
        raise Failed("unknown hints")
    if not manifest.get("params"):
        raise Failed("no parameters")
    for name, param in manifest["params"].items():
        if set(param) - {"type", "default", "description", "choices"}:
            raise Failed(f"param {name}: unknown keys")
        kind = PARAM_TYPES[param["type"]]
        if type(param["default"]) is not kind:
            raise Failed(f"param {name}: default is not a {param['type']}")
        if param["type"] == "enum" and param["default"] not in param.get("choices", []):
            raise Failed(f"param {name}: default not among the choices")
        if not param.get("description"):
            raise Failed(f"param {name}: no description")
    for key, value in manifest.get("env", {}).items():
        if not isinstance(value, str):
            raise Failed(f"env {key} is not a string")
    return manifest


def render(folder, manifest, language, overrides, dest):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    context = {
        "name": NAME,
        "name_snake": NAME.replace("-", "_"),
        "kind": manifest["kind"],
        "language": language,
        "motif_function": '{ path = "%s" }' % (ROOT / "invokers" / "rust"),
    }
    for name, param in manifest["params"].items():
        value = overrides.get(name, param["default"])
        context[name] = PARAM_TYPES[param["type"]](value) if param["type"] != "bool" else value in (True, "true")
    for source in sorted(folder.rglob("*")):
        relative = source.relative_to(folder)
        if relative == Path("manifest.toml") or source.is_dir():
            continue
        if relative.name == "motif.toml":
            raise Failed("a template must not hold a motif.toml")
        target = dest / env.from_string(str(relative)).render(context)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = source.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            target.write_bytes(data)
        else:
            target.write_text(env.from_string(text).render(context))
        target.chmod(source.stat().st_mode & 0o777)
    if manifest.get("handler") and not (dest / manifest["handler"]).is_file():
        raise Failed(f"the handler {manifest['handler']} is not among the files")
    return context


# -- serving -------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A function process on a free port, stopped (SIGTERM, by its pid) on exit."""

    def __init__(self, argv, cwd, env):
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        log(f"  $ PORT={self.port} {' '.join(map(str, argv))}")
        self.process = subprocess.Popen(
            list(map(str, argv)), cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, **env, "PORT": str(self.port), "MOTIF_HOST": "127.0.0.1"},
        )

    def __enter__(self):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failed(f"the server exited {self.process.returncode}:\n{self.output()}")
            try:
                if request(self.port, "GET", "/_/ready")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise Failed(f"the server never turned ready:\n{self.output()}")

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if exc[0] is None and self.process.returncode != 0:
            raise Failed(f"the server exited {self.process.returncode} on SIGTERM:\n{self.output()}")

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]


def request(port, method, path, body=None, headers=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method,
                                 headers=headers or {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def expect(what, actual, wanted):
    if actual != wanted:
        raise Failed(f"{what}: got {actual!r}, wanted {wanted!r}")
    log(f"  ok: {what} = {actual!r}")


def exercise(server, language, kind, context):
    """Sends the function what its README says it takes and checks the answer."""
    greeting = context["greeting"]
    if kind == "http":
        status, headers, body = request(server.port, "POST", "/greet", b"motif",
                                        {"content-type": "text/plain"})
        expect("POST motif: status", status, 200)
        expect("POST motif: body", body.decode().strip(), f"{greeting}, motif!")
        expect("POST motif: text", headers.get("content-type", "").split(";")[0], "text/plain")
        status, _, body = request(server.port, "GET", "/")
        expect("GET: body", body.decode().strip(), f"{greeting}, world!")
        return
    ce = {"ce-specversion": "1.0", "ce-id": "e1", "ce-source": "/check", "ce-type": "dev.motif.greet"}
    if language in DATA_ONLY:
        data, content_type = b"motif", "text/plain"
        reply_type = "dev.motif.greet.reply"
    else:
        data, content_type = json.dumps({"name": "motif"}).encode(), "application/json"
        reply_type = context["reply_type"] or f"dev.motif.{NAME}.reply"
    status, headers, body = request(server.port, "POST", "/", data, {**ce, "content-type": content_type})
    expect("event: status", status, 200)
    expect("event: reply type", headers.get("ce-type"), reply_type)
    expect("event: reply source", headers.get("ce-source"), f"/motif/{NAME}")
    if language in DATA_ONLY:
        expect("event: reply data", body.decode().strip(), f"{greeting}, motif!")
    else:
        expect("event: reply data", json.loads(body), {"message": f"{greeting}, motif!"})
    status, _, body = request(server.port, "POST", "/", b"", {**ce, "ce-id": "e2"})
    expect("event without data: status", status, 204)
    structured = {"specversion": "1.0", "id": "e3", "source": "/check", "type": "dev.motif.greet",
                  "datacontenttype": content_type,
                  "data": "motif" if language in DATA_ONLY else {"name": "structured"}}
    status, headers, body = request(server.port, "POST", "/", json.dumps(structured).encode(),
                                    {"content-type": "application/cloudevents+json"})
    expect("structured event: status", status, 200)
    reply = json.loads(body)
    expect("structured event: reply type", reply["type"], reply_type)


# -- each language -------------------------------------------------------------------

def cargo_env():
    return {"CARGO_TARGET_DIR": os.environ.get("CARGO_TARGET_DIR", "/tmp/motif-template-target")}


def serve_env(manifest):
    return {**manifest.get("env", {}), "MOTIF_FUNCTION_KIND": manifest["kind"],
            "MOTIF_FUNCTION_NAME": NAME}


def check_rust(dir, manifest, context, wasm):
    env = cargo_env()
    run(["cargo", "test", "--quiet"], dir, env)
    run(["cargo", "clippy", "--quiet", "--all-targets", "--", "-D", "warnings"], dir, env)
    run(["cargo", "fmt", "--check"], dir, env)
    target = Path(env["CARGO_TARGET_DIR"])
    if wasm:
        metadata = tomllib.loads((dir / "Cargo.toml").read_text())["package"]["metadata"]["motif"]
        expect("package.metadata.motif.target", metadata["target"], "wasm32-wasip2")
        run(["cargo", "build", "--quiet", "--release", "--target", "wasm32-wasip2"], dir, env)
        wasm_file = target / "wasm32-wasip2" / "release" / f"{NAME}.wasm"
        log(f"  component: {wasm_file.stat().st_size} bytes")
        argv = [INVOKER, "--wasm", wasm_file]
    else:
        run(["cargo", "build", "--quiet"], dir, env)
        argv = [target / "debug" / NAME]
    with Server(argv, dir, serve_env(manifest)) as server:
        exercise(server, "rust-wasm" if wasm else "rust", manifest["kind"], context)


def check_js(dir, manifest, context, ts):
    package = json.loads((dir / "package.json").read_text())
    if package.get("dependencies") or package.get("devDependencies"):
        run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], dir)
    run(["npm", "test"], dir)
    if ts:
        run(["npx", "tsc"], dir)
    entry = dir / package["main"]
    if not entry.is_file():
        raise Failed(f"{package['main']} is not there after the build")
    node = ROOT / "invokers" / "node"
    if not (node / "node_modules").is_dir():
        run(["npm", "ci", "--no-audit", "--no-fund"], node)
    with Server(["node", node / "bin" / "motif-node.js", "."], dir, serve_env(manifest)) as server:
        exercise(server, "ts" if ts else "js", manifest["kind"], context)


def check_python(dir, manifest, context, wasm):
    # The tests must run without the invoker (`motif`) on the path: only what
    # requirements.txt names.
    env = {"PYTHONPATH": "", "PYTHONDONTWRITEBYTECODE": "1"}
    output = run([sys.executable, "-m", "unittest", "-v"], dir, env)
    if "Ran 0 tests" in output:
        raise Failed("no tests ran")
    python = {"PYTHONPATH": str(ROOT / "invokers" / "python")}
    if wasm:
        run([sys.executable, "-m", "motif.guest", "--kind", manifest["kind"], "-o", "func.wasm",
             "func.py"], dir, python, timeout=900)
        argv = [INVOKER, "--wasm", "func.wasm"]
    else:
        argv = [sys.executable, "-m", "motif", "func.py"]
    with Server(argv, dir, {**serve_env(manifest), **python}) as server:
        exercise(server, "python-wasm" if wasm else "python", manifest["kind"], context)


def check_c(dir, manifest, context):
    run(["make", "test"], dir)
    run(["make", "build"], dir)
    wasm_file = dir / f"{NAME}.wasm"
    with Server([INVOKER, "--wasm", wasm_file], dir, serve_env(manifest)) as server:
        exercise(server, "c-wasm", manifest["kind"], context)


def check_command(dir, manifest, context):
    if not os.access(dir / "handler.sh", os.X_OK):
        raise Failed("handler.sh is not executable")
    run(["sh", "test.sh"], dir)
    with Server([INVOKER, "--command", "./handler.sh"], dir, serve_env(manifest)) as server:
        exercise(server, "command", manifest["kind"], context)


def check(language, template, overrides, workdir):
    folder = TEMPLATES / language / template
    manifest = read_manifest(folder)
    if manifest["kind"] != template:
        raise Failed(f"kind `{manifest['kind']}` in the `{template}` folder")
    dest = workdir / f"{language}-{template}" / NAME
    shutil.rmtree(dest.parent, ignore_errors=True)
    dest.mkdir(parents=True)
    context = render(folder, manifest, language, overrides, dest)
    log(f"  rendered into {dest}")
    if language in ("rust", "rust-wasm"):
        check_rust(dest, manifest, context, wasm=language == "rust-wasm")
    elif language in ("js", "ts"):
        check_js(dest, manifest, context, ts=language == "ts")
    elif language in ("python", "python-wasm"):
        check_python(dest, manifest, context, wasm=language == "python-wasm")
    elif language == "c-wasm":
        check_c(dest, manifest, context)
    else:
        check_command(dest, manifest, context)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("only", nargs="*", help="LANGUAGE or LANGUAGE/TEMPLATE")
    parser.add_argument("--param", action="append", default=[], help="NAME=VALUE")
    parser.add_argument("--keep", type=Path, help="render into this directory and keep it")
    args = parser.parse_args()
    overrides = dict(p.split("=", 1) for p in args.param)

    found = sorted(p.parent.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.glob("*/*/manifest.toml"))
    wanted = [f"{l}/{k}" for l in LANGUAGES for k in KINDS]
    if found != sorted(wanted):
        log(f"templates found: {found}")
    selected = [w for w in wanted if not args.only or any(w == o or w.split("/")[0] == o for o in args.only)]

    if not INVOKER.exists():
        run(["cargo", "build", "-p", "motif-invoker"], ROOT)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="motif-templates-"))
    failures = []
    for name in selected:
        log(f"== {name}")
        language, template = name.split("/")
        try:
            check(language, template, overrides, workdir)
            log(f"== {name}: ok")
        except (Failed, subprocess.TimeoutExpired, OSError, KeyError) as e:
            log(f"== {name}: FAILED: {e}")
            failures.append(name)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    log(f"{len(selected) - len(failures)} of {len(selected)} templates pass"
        + (f"; failed: {', '.join(failures)}" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
