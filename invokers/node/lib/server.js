'use strict';
/**
 * The function server's life (CONTRACT.md §1): listening for HTTP/1.1 and h2c, the
 * invoker's endpoints under `/_/`, ready once the function is loaded and initialised,
 * and the drain on SIGTERM. Function requests go to the {@link Dispatcher}.
 *
 * One listening socket serves both protocols: a connection that opens with the HTTP/2
 * preface (h2c with prior knowledge, as Knative's `h2c` port asks) goes to an HTTP/2
 * server, any other to the HTTP/1 server. Both are Node's own (`node:http`,
 * `node:http2`); the HTTP/2 one is made on the first h2c connection.
 */

const http = require('node:http');
const net = require('node:net');
const { Dispatcher } = require('./dispatch');
const { Metrics } = require('./metrics');
const problems = require('./problem');
const { CLOSE_AFTER, respond } = require('./respond');

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** How long a new connection may stay silent before the server gives up on it. */
const FIRST_BYTES_TIMEOUT_MS = 30_000;

const STARTING = 0;
const READY = 1;
const DRAINING = 2;

/** A function server, listening from {@link FunctionServer#listen} on. */
class FunctionServer {
  /**
   * @param {import('./config').Config} config
   * @param {import('./log').Logger} logger
   */
  constructor(config, logger) {
    this.config = config;
    this.logger = logger;
    this.metrics = new Metrics();
    /** @type {import('./context').FunctionInfo} */
    this.info = {
      functionName: config.name,
      service: config.knative.service,
      revision: config.knative.revision,
      configuration: config.knative.configuration,
    };
    this.dispatcher = new Dispatcher(config, this.metrics, logger, this.info);
    this.state = STARTING;
    const onRequest = this.onRequest.bind(this);
    this.h1 = http.createServer(onRequest);
    this.h1.on('checkContinue', (req, res) => this.onCheckContinue(req, res));
    this.h1.on('clientError', clientError);
    // The HTTP/1 server never listens itself (connections are handed to it), and Node
    // starts its connection tracking (header and request timeouts, idle connections to
    // close on drain) on 'listening'.
    this.h1.emit('listening');
    /** @type {import('node:http2').Http2Server | undefined} */
    this.h2 = undefined;
    /** @type {Set<import('node:http2').ServerHttp2Session>} */
    this.sessions = new Set();
    /** @type {Set<import('node:net').Socket>} the HTTP/1 connections open now */
    this.connections = new Set();
    this.listener = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  /**
   * Binds `MOTIF_HOST`:`PORT` (every interface when no host is set).
   * @returns {Promise<import('node:net').AddressInfo>}
   */
  listen() {
    return new Promise((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen({ port: this.config.port, host: this.config.host }, () => {
        this.listener.off('error', reject);
        resolve(/** @type {import('node:net').AddressInfo} */ (this.listener.address()));
      });
    });
  }

  /**
   * Starts serving function requests with `fn` and turns `/_/ready` 200.
   * @param {import('./dispatch').LoadedFunction} fn
   * @param {import('./events/sdk').EventBridge} [bridge] for a cloudevent function
   */
  ready(fn, bridge) {
    this.dispatcher.fn = fn;
    this.dispatcher.bridge = bridge;
    if (this.state === STARTING) this.state = READY;
    this.metrics.setColdStart(performance.now());
  }

  /**
   * The drain (CONTRACT.md §1): `/_/ready` turns 503 at once; requests are served until
   * none is in flight or `MOTIF_DRAIN_SECONDS` pass; then new connections are refused
   * and open ones closed as they go idle.
   */
  async drain() {
    // Loaded here rather than at start: every millisecond of start is cold start.
    const { setTimeout: sleep } = require('node:timers/promises');
    this.state = DRAINING;
    for (const socket of this.connections) socket[CLOSE_AFTER] = true;
    const deadline = performance.now() + this.config.drainSeconds * 1000;
    this.logger.info('draining', { in_flight: this.metrics.inFlight });
    while (this.metrics.inFlight > 0 && performance.now() < deadline) await sleep(10);
    const closed = new Promise((resolve) => this.listener.close(resolve));
    this.h1.closeIdleConnections();
    for (const session of this.sessions) session.close();
    // Connections close as their last response is written; one still busy when the
    // window ends is abandoned with the process.
    const left = Math.max(deadline - performance.now(), 100);
    await Promise.race([closed, sleep(left, undefined, { ref: false })]);
    if (this.metrics.inFlight > 0) {
      this.logger.warn('drain window ended with requests in flight', {
        in_flight: this.metrics.inFlight,
      });
    }
  }

  /**
   * Hands a new connection to the HTTP/2 server if it opens with the HTTP/2 preface,
   * else to the HTTP/1 one; the bytes read to tell are put back first.
   * @param {import('node:net').Socket} socket
   */
  accept(socket) {
    let seen = Buffer.alloc(0);
    const drop = () => socket.destroy();
    socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, drop);
    socket.on('error', drop);
    /** @param {Buffer} chunk */
    const onData = (chunk) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const h2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (h2 && n < PREFACE.length) return; // a prefix of the preface: read on
      socket.off('data', onData);
      socket.off('error', drop);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(seen);
      if (h2) {
        // The HTTP/2 session reads what was put back by itself.
        this.http2().emit('connection', socket);
      } else {
        this.connections.add(socket);
        socket.once('close', () => this.connections.delete(socket));
        if (this.state === DRAINING) socket[CLOSE_AFTER] = true;
        this.h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
  }

  /** The HTTP/2 server, made on first use: most deployments never see h2c. */
  http2() {
    if (this.h2 === undefined) {
      const h2 = require('node:http2').createServer(this.onRequest.bind(this));
      h2.on('session', (session) => {
        this.sessions.add(session);
        session.on('close', () => this.sessions.delete(session));
        if (this.state === DRAINING) session.close();
      });
      this.h2 = h2;
    }
    return this.h2;
  }

  /**
   * Every request: the invoker's endpoints under `/_/`, else the function's.
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   */
  onRequest(req, res) {
    if (req.url.startsWith('/_/')) this.endpoint(req, res);
    else this.dispatcher.serve(req, res);
  }

  /**
   * A request announcing its body with `Expect: 100-continue`: one declared over the
   * limit is refused before the client sends it.
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   */
  onCheckContinue(req, res) {
    const declared = Number(req.headers['content-length']);
    if (declared > this.config.maxBody && !req.url.startsWith('/_/')) {
      problems.sendProblem(res, problems.payloadTooLarge(this.config.maxBody), {
        connection: 'close',
      });
      this.metrics.record(413, 0);
      return;
    }
    res.writeContinue();
    this.onRequest(req, res);
  }

  /**
   * The invoker's endpoints: `/_/live`, `/_/ready` and `/_/metrics`, GET (or HEAD) only.
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   */
  endpoint(req, res) {
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    if (path !== '/_/live' && path !== '/_/ready' && path !== '/_/metrics') {
      problems.sendProblem(
        res,
        problems.notFound(
          `\`${path}\` is not an invoker endpoint: /_/live, /_/ready and /_/metrics are`,
        ),
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const p = problems.methodNotAllowed("the invoker's endpoints take GET");
      problems.sendProblem(res, p, { allow: 'GET, HEAD' });
      return;
    }
    if (path === '/_/metrics') {
      respond(
        res,
        200,
        { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
        this.metrics.render(),
      );
    } else if (path === '/_/live' || this.state === READY) {
      respond(res, 200, { 'content-type': 'text/plain; charset=utf-8' }, 'ok');
    } else {
      const why = this.state === DRAINING ? 'function is draining' : 'function is starting';
      problems.sendProblem(res, problems.unavailable(why));
    }
  }
}

/**
 * A request Node's HTTP/1 parser refused (malformed, headers too large, too slow): a
 * problem too, as every error is, then the connection closes.
 * @param {Error & {code?: string}} error
 * @param {import('node:stream').Duplex} socket
 */
function clientError(error, socket) {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  let p;
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    p = new problems.Problem(
      431,
      'request-header-fields-too-large',
      'Request header fields too large',
      'the request headers are over the limit (16 KiB)',
    );
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    p = new problems.Problem(
      408,
      'request-timeout',
      'Request timeout',
      'the request came too slowly',
    );
  } else {
    p = problems.badRequest(`the request could not be parsed: ${error.message}`);
  }
  const body = p.body();
  socket.end(
    `HTTP/1.1 ${p.status} ${http.STATUS_CODES[p.status]}\r\ncontent-type: application/problem+json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

module.exports = { FunctionServer };
