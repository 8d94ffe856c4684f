'use strict';
/**
 * RFC 9457 problem details: the body of every error the invoker answers with. The `type`
 * URIs, titles and statuses are those of crates/contract/src/problem.rs, so a client gets
 * the same problem from every invoker.
 */

const { PROBLEM_JSON } = require('./media');
const { respond } = require('./respond');

const TYPE_BASE = 'https://motif.dev/problems/';

/**
 * A number written with a decimal point even when whole (`1.0`), as the Rust invoker
 * writes an `f64`: JSON readers that keep integers and floats apart (serde_json) see `1`
 * and `1.0` as different values.
 */
class Float {
  /** @param {number} value */
  constructor(value) {
    this.value = value;
  }

  /** @returns {string} */
  text() {
    return Number.isInteger(this.value) ? this.value.toFixed(1) : String(this.value);
  }
}

/** An RFC 9457 problem: `type`, `title`, `status`, `detail` and extension members. */
class Problem {
  /**
   * @param {number} status the HTTP status
   * @param {string} slug the last segment of the type URI, naming the kind of problem
   * @param {string} title a short summary of the kind of problem
   * @param {string} detail what went wrong this time, and what to do
   * @param {Record<string, unknown>} [extensions] extension members (for example `attribute`)
   */
  constructor(status, slug, title, detail, extensions = {}) {
    this.type = TYPE_BASE + slug;
    this.title = title;
    this.status = status;
    this.detail = detail;
    this.extensions = extensions;
  }

  /** The JSON body. */
  body() {
    let out = `{"type":${JSON.stringify(this.type)},"title":${JSON.stringify(this.title)},"status":${this.status},"detail":${JSON.stringify(this.detail)}`;
    for (const [name, value] of Object.entries(this.extensions)) {
      out += `,${JSON.stringify(name)}:${value instanceof Float ? value.text() : JSON.stringify(value)}`;
    }
    return `${out}}`;
  }
}

/** @param {string} detail */
const badRequest = (detail) => new Problem(400, 'bad-request', 'Bad request', detail);
/** @param {string} detail */
const notFound = (detail) => new Problem(404, 'not-found', 'Not found', detail);
/** @param {string} detail */
const methodNotAllowed = (detail) =>
  new Problem(405, 'method-not-allowed', 'Method not allowed', detail);
/** @param {string} detail */
const notAcceptable = (detail) => new Problem(406, 'not-acceptable', 'Not acceptable', detail);
/** @param {number} limit the body limit in bytes */
const payloadTooLarge = (limit) =>
  new Problem(
    413,
    'payload-too-large',
    'Payload too large',
    `request body is over the limit of ${limit} bytes (MOTIF_MAX_BODY)`,
    { limit },
  );
/** @param {string} detail */
const unsupportedMediaType = (detail) =>
  new Problem(415, 'unsupported-media-type', 'Unsupported media type', detail);
/** @param {string} detail */
const tooManyRequests = (detail) =>
  new Problem(429, 'too-many-requests', 'Too many requests', detail);
/** @param {string} detail the handler's own message */
const handlerFailed = (detail) => new Problem(500, 'handler-failed', 'Function failed', detail);
/** @param {string} detail */
const unavailable = (detail) => new Problem(503, 'unavailable', 'Service unavailable', detail);
/** @param {number} seconds the timeout that was exceeded */
const timeout = (seconds) =>
  new Problem(
    504,
    'timeout',
    'Function timed out',
    `function ran past its timeout of ${seconds}s (MOTIF_TIMEOUT)`,
    { timeoutSeconds: new Float(seconds) },
  );

/**
 * The problem a function's own failure with `status` (400-599) becomes: the contract's
 * problem for that status where it has one, else a `function-error`.
 * @param {number} status
 * @param {string} detail
 */
function forStatus(status, detail) {
  switch (status) {
    case 400:
      return badRequest(detail);
    case 404:
      return notFound(detail);
    case 405:
      return methodNotAllowed(detail);
    case 406:
      return notAcceptable(detail);
    case 415:
      return unsupportedMediaType(detail);
    case 500:
      return handlerFailed(detail);
    case 503:
      return unavailable(detail);
    default:
      return new Problem(status, 'function-error', 'Function error', detail);
  }
}

/**
 * Writes `problem` as the whole response.
 * @param {import('node:http').ServerResponse} res
 * @param {Problem} problem
 * @param {Record<string, string>} [headers] more response headers
 * @returns {number} the status written
 */
function sendProblem(res, problem, headers) {
  return respond(res, problem.status, { 'content-type': PROBLEM_JSON, ...headers }, problem.body());
}

module.exports = {
  Problem,
  badRequest,
  forStatus,
  handlerFailed,
  methodNotAllowed,
  notAcceptable,
  notFound,
  payloadTooLarge,
  sendProblem,
  timeout,
  tooManyRequests,
  unavailable,
  unsupportedMediaType,
};
