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

const { QUEUE_FULL, TIMED_OUT, callLimited } = require('./call');
const { Context } = require('./context');
const { readBody } = require('./body');
const { failure } = require('./failure');
const { Limiter } = require('./limiter');
const problems = require('./problem');
const { TraceContext } = require('./trace');
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
    /** The cloudevent kind's part, loaded only for cloudevent functions. */
    this.events = config.kind === 'cloudevent' ? require('./events/serve') : undefined;
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
      if (res.headersSent) {
        res.destroy();
      } else {
        const p = problems.handlerFailed('the invoker failed to answer; see its logs');
        status = sendProblem(res, p);
      }
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
    const events = this.events;
    if (events !== undefined) {
      const path = pathOf(req.url);
      if (path !== '/') {
        return sendProblem(
          res,
          problems.notFound(`\`${path}\` is not served: a cloudevent function takes POST /`),
        );
      }
      if (req.method === 'OPTIONS') return events.webhookPreflight(req, res);
      if (req.method !== 'POST') {
        const p = problems.methodNotAllowed(
          `${req.method} is not allowed: a cloudevent function takes POST /`,
        );
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
    return events !== undefined
      ? events.serveEvent(this, req, res, body, context, trace)
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
    const outcome = await callLimited(this.limiter, this.timeoutMs, () =>
      fn.handle(request, context),
    );
    if (typeof outcome === 'object' && 'value' in outcome) {
      try {
        return sendResult(res, outcome.value, req.headers.accept);
      } catch (e) {
        if (!(e instanceof InvalidResponse)) throw e;
        return this.failed(
          res,
          trace,
          problems.handlerFailed(`the function's response is not valid: ${e.message}`),
        );
      }
    }
    return this.unanswered(res, outcome, trace);
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
    if (outcome === TIMED_OUT) {
      return this.failed(res, trace, problems.timeout(this.config.timeoutSeconds));
    }
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
