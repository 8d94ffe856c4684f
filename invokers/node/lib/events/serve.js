'use strict';
/**
 * The cloudevent kind's part of a request (CONTRACT.md §3): decode the event(s), run the
 * handler once per event, and reply in the request's mode as `Accept` allows. Loaded
 * only for cloudevent functions.
 */

const { Accept, CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON, OCTET_STREAM } = require('../media');
const { callLimited } = require('../call');
const { messageOf, statusOf } = require('../failure');
const problems = require('../problem');
const { respond } = require('../respond');
const binding = require('./binding');
const { EventError } = require('./error');

/** @typedef {import('./json').EventRecord} EventRecord */
/** @typedef {import('../dispatch').LoadedFunction} LoadedFunction */
/** @typedef {import('node:http').ServerResponse} Response */

/**
 * Serves one event request; its body is read and its limits apply through `d`.
 * @param {import('../dispatch').Dispatcher} d
 * @param {import('node:http').IncomingMessage} req
 * @param {Response} res
 * @param {Buffer} body
 * @param {import('../context').Context} context
 * @param {import('../trace').TraceContext} trace
 * @returns {Promise<number>} the status written
 */
async function serveEvent(d, req, res, body, context, trace) {
  const fn = /** @type {LoadedFunction} */ (d.fn);
  const bridge = /** @type {import('./sdk').EventBridge} */ (d.bridge);
  /** @type {binding.Mode} */
  let mode = 'binary';
  const outcome = await callLimited(d.limiter, d.timeoutMs, () => {
    const message = binding.decode(req.rawHeaders, req.headers['content-type'], body);
    mode = message.mode;
    const events = message.records.map((record) => bridge.toEvent(record, message.mode));
    if (mode !== 'batch') return fn.handle(events[0], context);
    return handleBatch(fn, bridge, events, context);
  });
  if (typeof outcome !== 'object' || !('value' in outcome)) {
    return d.unanswered(res, outcome, trace);
  }
  const accept = Accept.parse(req.headers.accept);
  try {
    if (mode === 'batch') {
      return replyToBatch(res, /** @type {EventRecord[]} */ (outcome.value), trace, accept);
    }
    const record = bridge.fromReturned(outcome.value);
    if (record === undefined) return respond(res, 204, {});
    return reply(res, traced(record, trace), mode, accept);
  } catch (e) {
    if (!(e instanceof EventError)) throw e;
    return d.failed(
      res,
      trace,
      problems.handlerFailed(`the function returned an invalid CloudEvent: ${e.message}`),
    );
  }
}

/**
 * Runs the handler once per event of a batch, in order, and collects the replies.
 * @param {LoadedFunction} fn
 * @param {import('./sdk').EventBridge} bridge
 * @param {object[]} events
 * @param {import('../context').Context} context
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
 * @param {Response} res
 * @param {EventRecord[]} records
 * @param {import('../trace').TraceContext} trace
 * @param {Accept} accept
 */
function replyToBatch(res, records, trace, accept) {
  if (records.length === 0) return respond(res, 204, {});
  const replies = records.map((r) => traced(r, trace));
  if (accept.names(CLOUDEVENTS_BATCH_JSON)) {
    const { headers, body } = binding.encodeBatch(replies);
    return respond(res, 200, headers, body);
  }
  if (replies.length === 1) return reply(res, replies[0], 'structured', accept);
  return problems.sendProblem(
    res,
    problems.notAcceptable(
      `the batch produced ${replies.length} reply events; ask for them with \`Accept: ${CLOUDEVENTS_BATCH_JSON}\``,
    ),
  );
}

/**
 * A reply in the request's mode when `Accept` allows it, else in the other single mode,
 * else 406.
 * @param {Response} res
 * @param {EventRecord} record
 * @param {'binary' | 'structured'} requestMode
 * @param {Accept} accept
 */
function reply(res, record, requestMode, accept) {
  const type = /** @type {string | undefined} */ (record.attributes.datacontenttype);
  const dataType = type ?? (record.data instanceof Uint8Array ? OCTET_STREAM : 'application/json');
  const binaryOk =
    binding.binaryCarries(record) && (record.data === undefined || accept.allows(dataType));
  const structuredOk = accept.allows(CLOUDEVENTS_JSON);
  if (!binaryOk && !structuredOk) {
    return problems.sendProblem(
      res,
      problems.notAcceptable(
        `the reply is \`${dataType}\` in binary mode or \`${CLOUDEVENTS_JSON}\` in structured mode, and Accept allows neither`,
      ),
    );
  }
  const mode =
    structuredOk && (requestMode === 'structured' || !binaryOk) ? 'structured' : 'binary';
  const { headers, body } = binding.encode(record, mode);
  return respond(res, 200, headers, body);
}

/**
 * Events the handler emits carry the distributed-tracing extension of the request's
 * trace (CONTRACT.md §4), unless they set their own.
 * @param {EventRecord} record
 * @param {import('../trace').TraceContext} trace
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
 * @param {Response} res
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

module.exports = { serveEvent, webhookPreflight };
