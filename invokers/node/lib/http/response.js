'use strict';
/**
 * Writing what an `http` handler returned (CONTRACT.md §2, §4).
 *
 * A handler returns a response object, `{ status, headers, body }` (any of the three,
 * and nothing else: an object with other members is a JSON body), or the body alone:
 * - a string: `text/plain; charset=utf-8`;
 * - bytes (`Buffer`, `Uint8Array`, any typed array or `ArrayBuffer`): `application/octet-stream`;
 * - `undefined` or `null`: no body, 204 unless a status says otherwise;
 * - anything else (a plain object, an array, a number): JSON, `application/json`.
 * A `Content-Type` among the headers wins over these defaults.
 */

const http = require('node:http');
const { Accept } = require('../media');
const { notAcceptable, sendProblem } = require('../problem');
const { respond } = require('../respond');
const { HOP_BY_HOP } = require('./request');

const RESPONSE_KEYS = new Set(['status', 'headers', 'body']);

/** What the handler returned cannot be sent; the message says why. */
class InvalidResponse extends Error {}

/**
 * Writes `value` as the response, or a 406 when it is a success of a type `accept`
 * excludes (errors pass as they are: RFC 9110 §12.5.1 lets a server ignore Accept).
 * @param {import('node:http').ServerResponse | import('node:http2').Http2ServerResponse} res
 * @param {unknown} value what the handler returned
 * @param {string | undefined} accept the request's `Accept`
 * @returns {number} the status written
 * @throws {InvalidResponse} before anything is written
 */
function sendResult(res, value, accept) {
  const response = isResponseObject(value) ? value : { body: value };
  const [body, defaultType] = bodyOf(response.body);
  const status = response.status ?? (body === undefined ? 204 : 200);
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new InvalidResponse(`status \`${String(status)}\` is not a whole number from 200 to 599`);
  }
  const headers = headersOf(response.headers);
  if (body !== undefined && headers['content-type'] === undefined) {
    headers['content-type'] = defaultType;
  }
  const type = headers['content-type'];
  if (status < 300 && typeof type === 'string' && !Accept.parse(accept).allows(type)) {
    return sendProblem(
      res,
      notAcceptable(`the function responded with \`${type}\`, which Accept does not allow`),
    );
  }
  return respond(res, status, headers, body);
}

/**
 * @param {unknown} value
 * @returns {value is {status?: number, headers?: Record<string, unknown>, body?: unknown}}
 */
function isResponseObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const keys = Object.keys(value);
  const status = /** @type {{status?: unknown}} */ (value).status;
  return (
    keys.length > 0 &&
    keys.every((k) => RESPONSE_KEYS.has(k)) &&
    (status === undefined || typeof status === 'number')
  );
}

/**
 * The bytes or text to send, and their default `Content-Type`.
 * @param {unknown} body
 * @returns {[Uint8Array | string | undefined, string]}
 */
function bodyOf(body) {
  if (body === undefined || body === null) return [undefined, ''];
  if (typeof body === 'string') return [body, 'text/plain; charset=utf-8'];
  if (body instanceof Uint8Array) return [body, 'application/octet-stream'];
  if (ArrayBuffer.isView(body)) {
    return [
      new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
      'application/octet-stream',
    ];
  }
  if (body instanceof ArrayBuffer) return [new Uint8Array(body), 'application/octet-stream'];
  let json;
  try {
    json = JSON.stringify(body);
  } catch (e) {
    throw new InvalidResponse(
      `the body cannot be written as JSON: ${/** @type {Error} */ (e).message}`,
    );
  }
  if (json === undefined) {
    throw new InvalidResponse(`the body cannot be written as JSON: it is ${typeof body}`);
  }
  return [json, 'application/json'];
}

/**
 * The handler's headers, checked, names in lower case, without hop-by-hop headers or a
 * `Content-Length` (the invoker writes the body whole and counts it itself).
 * @param {unknown} given
 * @returns {Record<string, string | string[]>}
 */
function headersOf(given) {
  /** @type {Record<string, string | string[]>} */
  const headers = {};
  if (given === undefined || given === null) return headers;
  if (typeof given !== 'object') {
    throw new InvalidResponse('`headers` must be an object of names and values');
  }
  for (const [rawName, rawValue] of Object.entries(given)) {
    const name = rawName.toLowerCase();
    if (HOP_BY_HOP.has(name) || name === 'content-length' || rawValue === undefined) continue;
    const value = Array.isArray(rawValue) ? rawValue.map(String) : String(rawValue);
    try {
      http.validateHeaderName(name);
      for (const v of Array.isArray(value) ? value : [value]) http.validateHeaderValue(name, v);
    } catch (e) {
      throw new InvalidResponse(
        `header \`${rawName}\` cannot be sent: ${/** @type {Error} */ (e).message}`,
      );
    }
    headers[name] = value;
  }
  return headers;
}

module.exports = { InvalidResponse, sendResult };
