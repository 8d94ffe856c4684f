'use strict';
/**
 * Calling a handler under the contract's limits (CONTRACT.md §5): in a concurrency slot
 * (waiting in line for one, or refused), and under the deadline, which covers the wait
 * and the handler alike.
 *
 * Caveats: JavaScript cannot stop a function. A handler past its deadline is answered
 * with a 504 and its slot is given back, as the Rust runtime drops a late future; its
 * promise runs on unobserved. A handler that never yields (a synchronous endless loop)
 * holds the one thread, and nothing can answer for it.
 */

const { FULL, GRANTED } = require('./limiter');

/** The deadline passed before the handler settled (or before a slot came free). */
const TIMED_OUT = Symbol('timed out');
/** Every slot was taken and the line was full. */
const QUEUE_FULL = Symbol('queue full');

/**
 * @typedef {{ value: unknown } | { error: unknown } | typeof TIMED_OUT | typeof QUEUE_FULL} Outcome
 */

/**
 * Calls `handler` in a slot of `limiter`, giving up after `timeoutMs`. A synchronous
 * handler that returns a plain value needs no timer and gets its outcome at once.
 * @param {import('./limiter').Limiter} limiter
 * @param {number} timeoutMs
 * @param {() => unknown} handler
 * @returns {Outcome | Promise<Outcome>}
 */
function callLimited(limiter, timeoutMs, handler) {
  const ticket = limiter.acquire();
  if (ticket === FULL) return QUEUE_FULL;
  if (ticket === GRANTED) return callInSlot(limiter, timeoutMs, handler);
  const since = performance.now();
  return new Promise((resolve) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      limiter.cancel(ticket);
      resolve(TIMED_OUT);
    }, timeoutMs);
    ticket.granted.then(() => {
      if (timedOut) return;
      clearTimeout(timer);
      resolve(callInSlot(limiter, timeoutMs - (performance.now() - since), handler));
    });
  });
}

/**
 * @param {import('./limiter').Limiter} limiter
 * @param {number} timeoutMs
 * @param {() => unknown} handler
 * @returns {Outcome | Promise<Outcome>}
 */
function callInSlot(limiter, timeoutMs, handler) {
  let result;
  try {
    result = handler();
  } catch (error) {
    limiter.release();
    return { error };
  }
  if (!isThenable(result)) {
    limiter.release();
    return { value: result };
  }
  return new Promise((resolve) => {
    let settled = false;
    /** @param {Outcome} outcome */
    const settle = (outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      limiter.release();
      resolve(outcome);
    };
    const timer = setTimeout(settle, Math.max(0, timeoutMs), TIMED_OUT);
    result.then(
      (value) => settle({ value }),
      (error) => settle({ error }),
    );
  });
}

/**
 * @param {unknown} value
 * @returns {value is PromiseLike<unknown>}
 */
function isThenable(value) {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (/** @type {{then?: unknown}} */ (value).then) === 'function'
  );
}

module.exports = { QUEUE_FULL, TIMED_OUT, callLimited };
