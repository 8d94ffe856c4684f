'use strict';
/**
 * What a handler's error becomes: the problem the client gets. A `status` (or
 * `statusCode`) of 400-599 on the error is kept, anything else is a 500; the detail is
 * the error's message, never its stack (the stack goes to the logs).
 */

const problems = require('./problem');

/**
 * @param {unknown} error what the handler threw or rejected with
 * @param {number} timeoutSeconds `MOTIF_TIMEOUT`, for a handler that answers 504 itself
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

/**
 * The status an error asks for: its `status` or `statusCode` when 400-599, else 500.
 * @param {unknown} error
 */
function statusOf(error) {
  const e = /** @type {{status?: unknown, statusCode?: unknown} | null | undefined} */ (error);
  const status = typeof e?.status === 'number' ? e.status : e?.statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599
    ? status
    : 500;
}

/**
 * An error's message, or what it is when it has none (a thrown string, say).
 * @param {unknown} error
 */
function messageOf(error) {
  const message = /** @type {{message?: unknown} | null | undefined} */ (error)?.message;
  return typeof message === 'string' ? message : String(error);
}

module.exports = { failure, messageOf, statusOf };
