'use strict';
// hello-js: an HTTP function. `handle` answers every request the function gets (every
// path below `/` except `/_/`, which belongs to the invoker); edit it.
//
// `motif run` serves it on port 8080 (`$PORT`); `npm test` runs index.test.js.

/** The word the function greets with. */
const GREETING = 'hello';

/**
 * Greets the name sent as the request body: `curl -d motif localhost:8080` answers
 * `hello, motif!`; without a body it greets the world.
 *
 * `request` is a plain object: `method`, `path`, `query` (the raw query string),
 * `headers` (lower-case names), `body` (a Buffer), `text()` and `json()`.
 * `context` has the function's name, the trace context for outgoing calls, the deadline
 * and a logger whose lines carry the request's trace id.
 *
 * Return the body alone (a string is text/plain, an object is JSON, `undefined` is a
 * 204) or `{ status, headers, body }`. A thrown error is a 500 problem+json whose detail
 * is its message; give it a `status` (400-599) to answer with that instead:
 *   throw Object.assign(new Error('no such order'), { status: 404 });
 * Handlers may be async.
 */
exports.handle = (request, context) => {
  const name = request.text().trim() || 'world';
  context.log.info('greeting', { name });
  return `${GREETING}, ${name}!\n`;
};
