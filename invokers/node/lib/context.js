'use strict';
/**
 * What a handler (and a lifecycle hook) knows about the call it serves: the function's
 * names, the trace, the deadline and a logger.
 */

/**
 * The function's identity, shared by every call.
 * @typedef {object} FunctionInfo
 * @property {string} functionName `MOTIF_FUNCTION_NAME`, else `K_SERVICE`, else `function`
 * @property {string | undefined} service `K_SERVICE`
 * @property {string | undefined} revision `K_REVISION`
 * @property {string | undefined} configuration `K_CONFIGURATION`
 */

/** The context of one request, handed to the handler as its second argument. */
class Context {
  /**
   * @param {FunctionInfo} info
   * @param {import('./trace').TraceContext | undefined} trace undefined for a hook
   * @param {number} deadline when the invoker gives up on the call (ms since the epoch)
   * @param {import('./log').Logger} logger the function's logger
   */
  constructor(info, trace, deadline, logger) {
    this.functionName = info.functionName;
    this.service = info.service;
    this.revision = info.revision;
    this.configuration = info.configuration;
    this.deadline = deadline;
    /** @private */
    this.trace = trace;
    /** @private */
    this.logger = logger;
    /** @private @type {import('./log').Logger | undefined} */
    this.traced = undefined;
  }

  /** The `traceparent` of the handler's own span, a child of the request's. */
  get traceparent() {
    return this.trace?.traceparent;
  }

  /** The request's `tracestate`, to pass on with `traceparent`. */
  get tracestate() {
    return this.trace?.tracestate;
  }

  /**
   * A logger (`info`, `warn`, `error`; each takes a message and optional fields)
   * whose lines carry the trace id: JSON lines with `MOTIF_LOG=json`.
   */
  get log() {
    if (this.trace === undefined) return this.logger;
    this.traced ??= this.logger.child({ trace_id: this.trace.traceId, span_id: this.trace.spanId });
    return this.traced;
  }
}

module.exports = { Context };
