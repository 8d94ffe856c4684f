'use strict';
/**
 * Media types: JSON and text classification, and `Accept` negotiation (RFC 9110 §12.5.1),
 * read exactly as crates/contract/src/media.rs reads them so that every invoker agrees.
 */

/** The JSON event format's media type. */
const CLOUDEVENTS_JSON = 'application/cloudevents+json';
/** The JSON batch format's media type. */
const CLOUDEVENTS_BATCH_JSON = 'application/cloudevents-batch+json';
/** RFC 9457's media type for problem details. */
const PROBLEM_JSON = 'application/problem+json';
/** What a body without a `Content-Type` is taken to be (CONTRACT.md §4). */
const OCTET_STREAM = 'application/octet-stream';

/**
 * The `type/subtype` part of a media type, trimmed, parameters dropped.
 * @param {string} mediaType
 * @returns {string}
 */
function essence(mediaType) {
  const semicolon = mediaType.indexOf(';');
  return (semicolon < 0 ? mediaType : mediaType.slice(0, semicolon)).trim();
}

/**
 * The lower-case subtype of a media type, or `undefined` when it has none.
 * @param {string} mediaType
 */
function subtypeOf(mediaType) {
  const e = essence(mediaType);
  const slash = e.indexOf('/');
  return slash < 0 ? undefined : e.slice(slash + 1).toLowerCase();
}

/**
 * A `json` or `+json` subtype, case-insensitively: data the JSON format writes as a value.
 * @param {string} mediaType
 */
function isJson(mediaType) {
  const subtype = subtypeOf(mediaType);
  return subtype !== undefined && (subtype === 'json' || subtype.endsWith('+json'));
}

/**
 * A `text` type, or an `xml` or `+xml` subtype: data the JSON format writes as a string.
 * @param {string} mediaType
 */
function isTextual(mediaType) {
  const subtype = subtypeOf(mediaType);
  if (subtype === undefined) return false;
  const type = essence(mediaType).slice(0, essence(mediaType).indexOf('/')).toLowerCase();
  return type === 'text' || subtype === 'xml' || subtype.endsWith('+xml');
}

/**
 * Whether `s` starts with `prefix`, ASCII case-insensitively (`prefix` lower-case).
 * @param {string} s
 * @param {string} prefix
 */
function startsWithIgnoreCase(s, prefix) {
  return s.length >= prefix.length && s.slice(0, prefix.length).toLowerCase() === prefix;
}

const Q_VALUE = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

/**
 * A parsed `Accept` header. Parameters other than `q` are ignored when matching;
 * malformed entries are skipped, so a garbled header is as permissive as a missing one.
 */
class Accept {
  /** @param {{type: string, subtype: string, q: number}[]} ranges empty means any type */
  constructor(ranges) {
    this.ranges = ranges;
  }

  /**
   * Parses a header value; a missing, empty or unusable value means any type.
   * @param {string | undefined} header
   * @returns {Accept}
   */
  static parse(header) {
    if (header === undefined || header === '') return ANY;
    const ranges = [];
    for (const item of header.split(',')) {
      const range = parseRange(item);
      if (range !== undefined) ranges.push(range);
    }
    return ranges.length === 0 ? ANY : new Accept(ranges);
  }

  /**
   * The quality given to `mediaType`: that of the most specific matching range, else 0.
   * @param {string} mediaType
   */
  quality(mediaType) {
    const e = essence(mediaType).toLowerCase();
    const slash = e.indexOf('/');
    if (slash < 0) return 0;
    if (this.ranges.length === 0) return 1;
    const type = e.slice(0, slash);
    const subtype = e.slice(slash + 1);
    let best;
    for (const r of this.ranges) {
      const matches =
        (r.type === '*' || r.type === type) && (r.subtype === '*' || r.subtype === subtype);
      if (matches && (best === undefined || specificity(r) > specificity(best))) best = r;
    }
    return best === undefined ? 0 : best.q;
  }

  /**
   * Whether `mediaType` is acceptable (quality above 0).
   * @param {string} mediaType
   */
  allows(mediaType) {
    return this.quality(mediaType) > 0;
  }

  /**
   * Whether the header names `mediaType` itself, not only through a wildcard.
   * @param {string} mediaType
   */
  names(mediaType) {
    const e = essence(mediaType).toLowerCase();
    return this.ranges.some((r) => r.q > 0 && `${r.type}/${r.subtype}` === e);
  }
}

/** Any type: what a request without `Accept` asks for (CONTRACT.md §4). */
const ANY = new Accept([]);

/** @param {{type: string, subtype: string}} r the wildcard < `type/*` < `type/subtype` */
function specificity(r) {
  if (r.type === '*') return 0;
  return r.subtype === '*' ? 1 : 2;
}

/** @param {string} item */
function parseRange(item) {
  const parts = item.split(';');
  const slash = parts[0].indexOf('/');
  if (slash < 0) return undefined;
  const type = parts[0].slice(0, slash).trim().toLowerCase();
  const subtype = parts[0]
    .slice(slash + 1)
    .trim()
    .toLowerCase();
  if (type === '' || subtype === '' || (type === '*' && subtype !== '*')) return undefined;
  let q = 1;
  for (const param of parts.slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'q') continue;
    const value = param.slice(eq + 1).trim();
    q = Q_VALUE.test(value) ? Number(value) : NaN;
    if (!(q >= 0 && q <= 1)) return undefined;
  }
  return { type, subtype, q };
}

module.exports = {
  Accept,
  CLOUDEVENTS_BATCH_JSON,
  CLOUDEVENTS_JSON,
  OCTET_STREAM,
  PROBLEM_JSON,
  essence,
  isJson,
  isTextual,
  startsWithIgnoreCase,
};
