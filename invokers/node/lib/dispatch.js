'use strict';
/**
 * One function request, through the contract's steps in the order of
 * crates/runtime/src/dispatch.rs:
 * 1. route: a cloudevent function takes `POST /` only (and the webhook preflight);
 * 2. body: `MOTIF_MAX_BODY` (413), before any slot is taken, so a slow upload holds none;
 * 3. deadline: `MOTIF_TIMEOUT` (504) covers the wait for a slot and the handler;
 * 4. slot: `MOTIF_CONCURRENCY` and its queue (429 with `Retry-After`);
 * 5. decode (cloudevent: 400/415), handler (500), encode (406).
 *
 * Every answer is counted in the metrics once written; the invoker's own endpoints
 * (`/_/…`) are not function requests and are served elsewhere.
 */

const { Accept, CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON, OCTET_STREAM } = require('./media');
const { QUEUE_FULL, TIMED_OUT, callLimited } = require('./call');
const { Context } = require('./context');
const { readBody } = require('./body');
const { respond } = require('./respond');
const { Limiter } = require('./limiter');
const problems = require('./problem');
const { TraceContext } = require('./trace');
const binding = require('./events/binding');
const { EventError } = require('./events/error');
const { functionRequest } = require('./http/request');
const { InvalidResponse, sendResult } = require('./http/response');

const { sendProblem } = problems;

/**
 * @typedef {object} LoadedFunction
 * @property {(input: unknown, context: Context) => unknown} handle
 * @property {((context: Context) => unknown) | undefined} init
 * @property {((context: Context) => unknown) | undefined} shutdown
 */

/** Serves the function requests of one function. */
class Dispatcher {
  /**
   * @param {import('./config').Config} config
   * @param {import('./metrics').Metrics} metrics
   * @param {import('./log').Logger} logger
   * @param {import('./context').FunctionInfo} info
   */
  constructor(config, metrics, logger, info) {
    this.config = config;
    this.metrics = metrics;
    this.logger = logger;
    this.info = info;
    this.limiter = new Limiter(config.concurrency, config.queue, metrics);
    this.timeoutMs = config.timeoutSeconds * 1000;
    /** @type {LoadedFunction | undefined} set once the function is loaded and initialised */
    this.fn = undefined;
    /** @type {import('./events/sdk').EventBridge | undefined} */
    this.bridge = undefined;
  }

  /**
   * Serves one function request and counts it.
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   */
  async serve(req, res) {
    const start = performance.now();
    this.metrics.inFlight += 1;
    let status = 500;
    try {
      status = await this.respond(req, res);
    } catch (error) {
      this.logger.error('the invoker failed to answer a request', { error });
      if (res.headersSent) res.destroy();
      else status = sendProblem(res, problems.handlerFailed('the invoker failed to answer; see its logs'));
    } finally {
      this.metrics.inFlight -= 1;
      this.metrics.record(status, performance.now() - start);
    }
  }

  /**
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   * @returns {Promise<number>} the status written
   */
  async respond(req, res) {
    const cloudevent = this.config.kind === 'cloudevent';
    if (cloudevent) {
      const path = pathOf(req.url);
      if (path !== '/') {
        return sendProblem(res, problems.notFound(`\`${path}\` is not served: a cloudevent function takes POST /`));
      }
      if (req.method === 'OPTIONS') return webhookPreflight(req, res);
      if (req.method !== 'POST') {
        const p = problems.methodNotAllowed(`${req.method} is not allowed: a cloudevent function takes POST /`);
        return sendProblem(res, p, { allow: 'POST, OPTIONS' });
      }
    }
    const fn = this.fn;
    if (fn === undefined) return sendProblem(res, problems.unavailable('function is starting'));
    let body;
    try {
      body = await readBody(req, this.config.maxBody);
    } catch (problem) {
      // The rest of an oversized body may still be on its way: the connection goes.
      const close = req.httpVersionMajor === 1 ? { connection: 'close' } : undefined;
      return sendProblem(res, /** @type {problems.Problem} */ (problem), close);
    }
    const trace = new TraceContext(header(req, 'traceparent'), header(req, 'tracestate'));
    const context = new Context(this.info, trace, Date.now() + this.timeoutMs, this.logger);
    return cloudevent
      ? this.event(req, res, body, context, trace)
      : this.http(req, res, body, context, trace, fn);
  }

  /**
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   * @param {Buffer} body
   * @param {Context} context
   * @param {TraceContext} trace
   * @param {LoadedFunction} fn
   */
  async http(req, res, body, context, trace, fn) {
    const request = functionRequest(req, body);
    const outcome = await callLimited(this.limiter, this.timeoutMs, () => fn.handle(request, context));
    if (typeof outcome === 'object' && 'value' in outcome) {
      try {
        return sendResult(res, outcome.value, req.headers.accept);
      } catch (e) {
        if (!(e instanceof InvalidResponse)) throw e;
        return this.failed(res, trace, problems.handlerFailed(`the function's response is not valid: ${e.message}`));
      }
    }
    return this.unanswered(res, outcome, trace);
  }

  /**
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   * @param {Buffer} body
   * @param {Context} context
   * @param {TraceContext} trace
   */
  async event(req, res, body, context, trace) {
    const fn = /** @type {LoadedFunction} */ (this.fn);
    const bridge = /** @type {import('./events/sdk').EventBridge} */ (this.bridge);
    /** @type {binding.Mode} */
    let mode = 'binary';
    const outcome = await callLimited(this.limiter, this.timeoutMs, () => {
      const message = binding.decode(req.rawHeaders, req.headers['content-type'], body);
      mode = message.mode;
      const events = message.records.map((record) => bridge.toEvent(record, message.mode));
      if (mode !== 'batch') return fn.handle(events[0], context);
      return handleBatch(fn, bridge, events, context);
    });
    if (typeof outcome !== 'object' || !('value' in outcome)) return this.unanswered(res, outcome, trace);
    const accept = Accept.parse(req.headers.accept);
    try {
      if (mode === 'batch') return replyToBatch(res, /** @type {EventRecord[]} */ (outcome.value), trace, accept);
      const record = bridge.fromReturned(outcome.value);
      if (record === undefined) return noContent(res);
      return reply(res, traced(record, trace), mode, accept);
    } catch (e) {
      if (!(e instanceof EventError)) throw e;
      return this.failed(res, trace, problems.handlerFailed(`the function returned an invalid CloudEvent: ${e.message}`));
    }
  }

  /**
   * Answers a call that produced no value: refused, timed out or failed.
   * @param {import('node:http').ServerResponse} res
   * @param {import('./call').Outcome} outcome
   * @param {TraceContext} trace
   */
  unanswered(res, outcome, trace) {
    if (outcome === QUEUE_FULL) {
      const { concurrency, queue } = this.config;
      const p = problems.tooManyRequests(
        `all ${concurrency} slots are busy and ${queue} requests are waiting (MOTIF_CONCURRENCY, MOTIF_QUEUE); retry later`,
      );
      return sendProblem(res, p, { 'retry-after': '1' });
    }
    if (outcome === TIMED_OUT) return this.failed(res, trace, problems.timeout(this.config.timeoutSeconds));
    const { error } = /** @type {{error: unknown}} */ (outcome);
    if (error instanceof EventError) return sendProblem(res, error.problem());
    return this.failed(res, trace, failure(error, this.config.timeoutSeconds), error);
  }

  /**
   * Answers with `problem`, logging a server error with the trace id.
   * @param {import('node:http').ServerResponse} res
   * @param {TraceContext} trace
   * @param {problems.Problem} problem
   * @param {unknown} [error] the handler's error, whose stack goes to the logs only
   */
  failed(res, trace, problem, error) {
    if (problem.status >= 500) {
      this.logger.warn('function request failed', {
        trace_id: trace.traceId,
        status: problem.status,
        detail: problem.detail,
        error: error instanceof Error ? error : undefined,
      });
    }
    return sendProblem(res, problem);
  }
}

/** @typedef {import('./events/json').EventRecord} EventRecord */

/**
 * Runs the handler once per event of a batch, in order, and collects the replies.
 * @param {LoadedFunction} fn
 * @param {import('./events/sdk').EventBridge} bridge
 * @param {object[]} events
 * @param {Context} context
 * @returns {Promise<EventRecord[]>}
 */
async function handleBatch(fn, bridge, events, context) {
  const replies = [];
  for (const [i, event] of events.entries()) {
    const where = `event ${i} of the batch (id \`${/** @type {{id: string}} */ (event).id}\`)`;
    let value;
    try {
      value = await fn.handle(event, context);
    } catch (error) {
      throw inBatch(error, where);
    }
    let record;
    try {
      record = bridge.fromReturned(value);
    } catch (e) {
      if (!(e instanceof EventError)) throw e;
      throw inBatch(new Error(`the function returned an invalid CloudEvent: ${e.message}`), where);
    }
    if (record !== undefined) replies.push(record);
  }
  return replies;
}

/**
 * The handler's error with `where` before its message; its status is kept.
 * @param {unknown} error
 * @param {string} where
 */
function inBatch(error, where) {
  const wrapped = new Error(`${where}: ${messageOf(error)}`, { cause: error });
  const status = statusOf(error);
  return Object.assign(wrapped, status === 500 ? {} : { status });
}

/**
 * The reply to a batch: a batch when `Accept` names the batch format, one event in
 * structured mode, or nothing (204).
 * @param {import('node:http').ServerResponse} res
 * @param {EventRecord[]} records
 * @param {TraceContext} trace
 * @param {Accept} accept
 */
function replyToBatch(res, records, trace, accept) {
  if (records.length === 0) return noContent(res);
  const replies = records.map((r) => traced(r, trace));
  if (accept.names(CLOUDEVENTS_BATCH_JSON)) return send(res, binding.encodeBatch(replies));
  if (replies.length === 1) return reply(res, replies[0], 'structured', accept);
  return sendProblem(
    res,
    problems.notAcceptable(
      `the batch produced ${replies.length} reply events; ask for them with \`Accept: ${CLOUDEVENTS_BATCH_JSON}\``,
    ),
  );
}

/**
 * A reply in the request's mode when `Accept` allows it, else in the other single mode,
 * else 406.
 * @param {import('node:http').ServerResponse} res
 * @param {EventRecord} record
 * @param {'binary' | 'structured'} requestMode
 * @param {Accept} accept
 */
function reply(res, record, requestMode, accept) {
  const type = /** @type {string | undefined} */ (record.attributes.datacontenttype);
  const dataType = type ?? (record.data instanceof Uint8Array ? OCTET_STREAM : 'application/json');
  const binaryOk = binding.binaryCarries(record) && (record.data === undefined || accept.allows(dataType));
  const structuredOk = accept.allows(CLOUDEVENTS_JSON);
  if (!binaryOk && !structuredOk) {
    return sendProblem(
      res,
      problems.notAcceptable(
        `the reply is \`${dataType}\` in binary mode or \`${CLOUDEVENTS_JSON}\` in structured mode, and Accept allows neither`,
      ),
    );
  }
  const mode = structuredOk && (requestMode === 'structured' || !binaryOk) ? 'structured' : 'binary';
  return send(res, binding.encode(record, mode));
}

/**
 * Events the handler emits carry the distributed-tracing extension of the request's
 * trace (CONTRACT.md §4), unless they set their own.
 * @param {EventRecord} record
 * @param {TraceContext} trace
 * @returns {EventRecord}
 */
function traced(record, trace) {
  if (record.attributes.traceparent !== undefined) return record;
  const attributes = { ...record.attributes, traceparent: trace.traceparent };
  const state = trace.tracestate;
  if (state !== undefined) attributes.tracestate = state;
  return { attributes, data: record.data };
}

/**
 * The CloudEvents webhook abuse-protection handshake (HTTP Webhook 1.0.2 §4).
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 */
function webhookPreflight(req, res) {
  /** @type {Record<string, string>} */
  const headers = { allow: 'POST, OPTIONS' };
  if (req.headers['webhook-request-origin'] !== undefined) {
    headers['webhook-allowed-origin'] = '*';
    headers['webhook-allowed-rate'] = '*';
  }
  return respond(res, 200, headers);
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {{headers: Record<string, string>, body: Uint8Array | string}} message
 */
function send(res, { headers, body }) {
  return respond(res, 200, headers, body);
}

/** @param {import('node:http').ServerResponse} res */
function noContent(res) {
  return respond(res, 204, {});
}

/**
 * The problem a handler's error becomes: a `status` (or `statusCode`) of 400-599 is
 * kept, anything else is a 500; the detail is the error's message, never its stack.
 * @param {unknown} error
 * @param {number} timeoutSeconds
 */
function failure(error, timeoutSeconds) {
  const status = statusOf(error);
  const message = messageOf(error);
  if (status !== 504) return problems.forStatus(status, message);
  // A handler that enforces the deadline itself answers as the invoker's own timeout.
  const p = problems.timeout(timeoutSeconds);
  p.detail = message;
  return p;
}

/** @param {unknown} error */
function statusOf(error) {
  const e = /** @type {{status?: unknown, statusCode?: unknown} | null | undefined} */ (error);
  const status = typeof e?.status === 'number' ? e.status : e?.statusCode;
  return Number.isInteger(status) && /** @type {number} */ (status) >= 400 && /** @type {number} */ (status) <= 599
    ? /** @type {number} */ (status)
    : 500;
}

/** @param {unknown} error */
function messageOf(error) {
  const message = /** @type {{message?: unknown} | null | undefined} */ (error)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** @param {string} url */
function pathOf(url) {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * A request header's first value.
 * @param {import('node:http').IncomingMessage} req
 * @param {string} name
 */
function header(req, name) {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

module.exports = { Dispatcher };
