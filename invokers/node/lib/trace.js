'use strict';
/**
 * W3C Trace Context: the request's `traceparent` is continued and the handler runs as a
 * child span of it (CONTRACT.md §4), as crates/runtime/src/trace.rs does.
 *
 * Nothing is parsed or generated until it is read: most requests never need their trace
 * (it is read for logs, for emitted events and by handlers that propagate it).
 */

const HEX_ID = /^[0-9a-f]+$/;
const ZERO = /^0+$/;

/**
 * Random bytes are drawn from a pool refilled in bulk: one system call per 4 KiB.
 * `node:crypto` is loaded with the first refill, not at start.
 */
const pool = Buffer.allocUnsafe(4096);
let offset = pool.length;

/**
 * `bytes` random bytes as lower-case hex, never all zeros (W3C Trace Context §3.2.2.3).
 * @param {number} bytes
 */
function randomHex(bytes) {
  for (;;) {
    if (offset + bytes > pool.length) {
      require('node:crypto').randomFillSync(pool);
      offset = 0;
    }
    const hex = pool.toString('hex', offset, offset + bytes);
    offset += bytes;
    if (!ZERO.test(hex)) return hex;
  }
}

/**
 * Parses `version-traceid-parentid-flags`: version 00 exactly, or a later version whose
 * first four fields parse (forward compatibility, §4.3). All-zero ids are invalid.
 * @param {string} value
 * @returns {[traceId: string, parentId: string, flags: string] | undefined}
 */
function parse(value) {
  const parts = value.trim().split('-');
  if (parts.length < 4) return undefined;
  const [version, traceId, parentId, flags] = parts;
  const valid =
    version.length === 2 &&
    HEX_ID.test(version) &&
    version !== 'ff' &&
    (version !== '00' || parts.length === 4) &&
    traceId.length === 32 &&
    HEX_ID.test(traceId) &&
    !ZERO.test(traceId) &&
    parentId.length === 16 &&
    HEX_ID.test(parentId) &&
    !ZERO.test(parentId) &&
    flags.length === 2 &&
    HEX_ID.test(flags);
  return valid ? [traceId, parentId, flags] : undefined;
}

/** The trace a request belongs to, and the span its handler runs as. */
class TraceContext {
  /**
   * Continues `traceparent` (and `tracestate`) when valid; otherwise a new trace starts,
   * as W3C Trace Context §4.3 says a receiver does with an invalid header.
   * @param {string | undefined} traceparent
   * @param {string | undefined} tracestate
   */
  constructor(traceparent, tracestate) {
    this.header = traceparent;
    this.stateHeader = tracestate;
    /** @type {{traceId: string, parentId?: string, spanId: string, flags: string, tracestate?: string} | undefined} */
    this.ids = undefined;
  }

  /** @private */
  resolve() {
    if (this.ids === undefined) {
      const parsed = this.header === undefined ? undefined : parse(this.header);
      this.ids =
        parsed === undefined
          ? { traceId: randomHex(16), spanId: randomHex(8), flags: '01' }
          : {
              traceId: parsed[0],
              parentId: parsed[1],
              spanId: randomHex(8),
              flags: parsed[2],
              tracestate: this.stateHeader,
            };
    }
    return this.ids;
  }

  /** The trace id, 32 lower-case hex digits. */
  get traceId() {
    return this.resolve().traceId;
  }

  /** The handler's span id, 16 lower-case hex digits. */
  get spanId() {
    return this.resolve().spanId;
  }

  /** The caller's span id, when the request carried a valid `traceparent`. */
  get parentId() {
    return this.resolve().parentId;
  }

  /** The `traceparent` for what the handler calls or emits: this trace, its span as parent. */
  get traceparent() {
    const ids = this.resolve();
    return `00-${ids.traceId}-${ids.spanId}-${ids.flags}`;
  }

  /** The `tracestate` to pass on, unchanged; only with a continued `traceparent`. */
  get tracestate() {
    return this.resolve().tracestate;
  }
}

module.exports = { TraceContext };
