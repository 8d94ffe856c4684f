'use strict';
// The invoker as a process: readiness after init, failing starts and their exit codes,
// the drain on SIGTERM with the shutdown hook, logs, and serving on after stray errors.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { FIXTURES, start } = require('./helpers');

const LIFECYCLE = path.join(FIXTURES, 'lifecycle.js');

test('ready turns 200 only after the init hook', async (t) => {
  const started = Date.now();
  const f = await start(LIFECYCLE, { INIT_MS: '400' });
  t.after(() => f.child.kill('SIGKILL'));
  assert.ok(Date.now() - started >= 400);
  assert.ok(f.readiness.includes(503), `statuses seen: ${f.readiness}`);
  const metrics = await (await fetch(`${f.url}/_/metrics`)).text();
  assert.ok(Number(/^motif_cold_start_seconds (\S+)$/m.exec(metrics)[1]) >= 0.4, metrics);
});

test('a failing init hook exits 1 with its message', async () => {
  const f = await start(LIFECYCLE, { INIT_FAIL: 'init failed on purpose' });
  assert.equal(f.exit, 1);
  assert.match(f.output, /^error: init hook failed: init failed on purpose$/m);
});

test('sigterm drains the request in flight, runs the shutdown hook and exits 0', async () => {
  const f = await start(LIFECYCLE);
  const inFlight = fetch(`${f.url}/slow`);
  await new Promise((r) => setTimeout(r, 100));
  f.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await fetch(`${f.url}/_/ready`)).status, 503);
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('connection'), 'close');
  assert.equal(await f.exited, 0);
  assert.match(f.output, /shutdown hook ran/);
  assert.match(f.output, /stopped/);
  await assert.rejects(fetch(`${f.url}/_/live`));
});

test('a bad setting exits 2 naming it, with a hint', async () => {
  const f = await start(LIFECYCLE, { MOTIF_TIMEOUT: 'soon' });
  assert.equal(f.exit, 2);
  assert.match(
    f.output,
    /^error: MOTIF_TIMEOUT=`soon` is not valid: expected a whole number of seconds above 0$/m,
  );
  assert.match(f.output, /^hint: set MOTIF_TIMEOUT/m);
});

test('a module that is missing exits 2; one that throws on load exits 1 with the cause', async () => {
  const missing = await start(path.join(FIXTURES, 'nowhere.js'));
  assert.equal(missing.exit, 2);
  assert.match(missing.output, /error: cannot find the function module/);
  const broken = await start(path.join(FIXTURES, 'throws-on-load.js'));
  assert.equal(broken.exit, 1);
  assert.match(broken.output, /Caused by:\n {4}Error: broken module/);
});

test('json logs are one object a line, naming the revision', async () => {
  const f = await start(LIFECYCLE, { MOTIF_LOG: 'json', K_REVISION: 'fn-00001' });
  f.child.kill('SIGTERM');
  await f.exited;
  const lines = f.output
    .trim()
    .split('\n')
    .filter((l) => !l.includes('shutdown hook ran'));
  assert.ok(lines.length >= 3);
  for (const line of lines) assert.equal(JSON.parse(line).k_revision, 'fn-00001', line);
});

test('an error thrown outside any request is logged and the function serves on', async (t) => {
  const f = await start(LIFECYCLE);
  t.after(() => f.child.kill('SIGKILL'));
  assert.equal((await fetch(`${f.url}/stray`)).status, 200);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(await (await fetch(f.url)).text(), 'ok');
  assert.match(f.output, /an exception was not caught; serving on .*thrown from a timer/);
  assert.match(f.output, /a rejected promise was not handled; serving on .*rejected, unhandled/);
});

test('with its log reader gone, a sigterm still drains and exits 0', async () => {
  const f = await start(LIFECYCLE);
  // The serving process died: nobody reads the invoker's output any more.
  f.child.stdout.destroy();
  f.child.stderr.destroy();
  await fetch(`${f.url}/`).catch(() => undefined);
  f.child.kill('SIGTERM');
  const exit = await Promise.race([
    f.exited,
    new Promise((r) => setTimeout(() => r('still running after 10 s'), 10000)),
  ]);
  if (exit !== 0) f.child.kill('SIGKILL');
  assert.equal(exit, 0);
});
