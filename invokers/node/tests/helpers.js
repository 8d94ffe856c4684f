'use strict';
// Shared by the tests: an in-process function server on a loopback port, and a spawned
// invoker process for the lifecycle tests.

const { spawn } = require('node:child_process');
const path = require('node:path');
const { fromEnv } = require('../lib/config');
const { EventBridge } = require('../lib/events/sdk');
const { Logger } = require('../lib/log');
const { FunctionServer } = require('../lib/server');

const BIN = path.join(__dirname, '../bin/motif-node.js');
const FIXTURES = path.join(__dirname, 'fixtures');

/**
 * Serves `fn` (a handler, or `{handle, init, shutdown}`) in this process on a free
 * loopback port, ready at once. `env` holds the MOTIF_* settings.
 * @param {Function | {handle: Function}} fn
 * @param {Record<string, string>} [env]
 */
async function serve(fn, env = {}) {
  const config = fromEnv({ PORT: '0', MOTIF_HOST: '127.0.0.1', ...env });
  const logs = [];
  const server = new FunctionServer(
    config,
    new Logger(config.jsonLogs, {}, (line) => logs.push(line)),
  );
  const { port } = await server.listen();
  const loaded = typeof fn === 'function' ? { handle: fn } : fn;
  server.ready(loaded, config.kind === 'cloudevent' ? new EventBridge(__filename) : undefined);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    logs,
    close() {
      server.h1.closeAllConnections();
      for (const session of server.sessions) session.destroy();
      return new Promise((resolve) => server.listener.close(resolve));
    },
  };
}

/**
 * Starts `bin/motif-node.js MODULE` on a free port and resolves once `/_/ready` is 200
 * (or the process exits first, with `exit` set); `readiness` lists the statuses seen.
 * @param {string} module
 * @param {Record<string, string>} [env]
 */
async function start(module, env = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, module], {
    env: { ...process.env, PORT: String(port), MOTIF_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = {
    child,
    url: `http://127.0.0.1:${port}`,
    output: '',
    exit: undefined,
    readiness: [],
  };
  child.stdout.on('data', (d) => (proc.output += d));
  child.stderr.on('data', (d) => (proc.output += d));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve((proc.exit = code))));
  proc.exited = exited;
  for (let i = 0; i < 300 && proc.exit === undefined; i += 1) {
    const status = await fetch(`${proc.url}/_/ready`).then(
      (r) => r.status,
      () => 0,
    );
    proc.readiness.push(status);
    if (status === 200) return proc;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (proc.exit === undefined) child.kill('SIGKILL');
  await exited;
  return proc;
}

/** A port nobody listens on now. */
function freePort() {
  const net = require('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Sends raw bytes over a new connection (given as parts, 200 ms apart) and returns
 * everything the server wrote back until it closed the connection (or `ms` passed), and
 * how many parts had been sent when the first byte of the answer came.
 * @param {number} port
 * @param {(string | Buffer)[]} parts
 * @param {number} [ms]
 * @returns {Promise<{answer: string, partsBeforeAnswer: number | undefined}>}
 */
function raw(port, parts, ms = 5000) {
  const net = require('node:net');
  return new Promise((resolve) => {
    let answer = '';
    let sent = 0;
    let partsBeforeAnswer;
    const socket = net.connect(port, '127.0.0.1', () => {
      parts.forEach((part, i) =>
        setTimeout(() => {
          sent += 1;
          if (socket.writable) socket.write(part);
        }, i * 200),
      );
    });
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on('data', (d) => {
      partsBeforeAnswer ??= sent;
      answer += d;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ answer, partsBeforeAnswer });
    });
  });
}

/**
 * One request with `node:http` (which, unlike fetch, sends any header, `Connection`
 * included). `headers` is flat, as `rawHeaders`: name, value, name, value…
 * @param {string} url
 * @param {{method?: string, headers?: string[], body?: string}} [options]
 * @returns {Promise<{status: number, headers: import('node:http').IncomingHttpHeaders, body: string}>}
 */
function request(url, { method = 'GET', headers = [], body } = {}) {
  const http = require('node:http');
  return new Promise((resolve, reject) => {
    // A header array is sent as it is: Host too must be in it.
    const all = ['host', new URL(url).host, ...headers];
    const req = http.request(url, { method, headers: all, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

module.exports = { FIXTURES, raw, request, serve, start };
