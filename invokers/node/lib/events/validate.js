'use strict';
/**
 * The CloudEvents 1.0.2 type system: attribute names and the canonical string forms of
 * String, URI, URI-reference and Timestamp values, checked as crates/contract/src/
 * validate.rs checks them. Each check throws an {@link EventError} naming the attribute.
 */

const { invalid, invalidName } = require('./error');

const NAME = /^[a-z0-9]+$/;

/**
 * One or more of `a`-`z` and `0`-`9` (CloudEvents 1.0.2 §3.1.1).
 * @param {string} name
 */
function name(name) {
  if (!NAME.test(name)) throw invalidName(name);
}

/**
 * Control characters (U+0000-U+001F, U+007F-U+009F), lone surrogates (a JavaScript
 * string can hold them, a Unicode one cannot) and noncharacters.
 */
const DISALLOWED = /[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;

/**
 * A String value: no control characters, lone surrogates or noncharacters (§3.3).
 * @param {string} attr
 * @param {string} value
 */
function string(attr, value) {
  const found = DISALLOWED.exec(value);
  if (found !== null) {
    const code = /** @type {number} */ (found[0].codePointAt(0));
    throw invalid(
      attr,
      `contains the disallowed character U+${code.toString(16).toUpperCase().padStart(4, '0')}`,
    );
  }
}

/**
 * A required String attribute: non-empty.
 * @param {string} attr
 * @param {string} value
 */
function required(attr, value) {
  if (value === '') throw invalid(attr, 'must not be empty');
  string(attr, value);
}

/**
 * A `datacontenttype`: a non-empty String of ASCII only, as every RFC 2046 media type is
 * (and as binary mode's `Content-Type` header must be to round-trip).
 * @param {string} attr
 * @param {string} value
 */
function mediaType(attr, value) {
  required(attr, value);
  if (!/^[\x00-\x7f]*$/.test(value)) {
    throw invalid(attr, 'is not an RFC 2046 media type: it must be ASCII');
  }
}

/** A character outside RFC 3986's unreserved, gen-delims, sub-delims and `%`. */
const NOT_URI_CHAR = /[^A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/u;
/** A `%` not followed by two hex digits. */
const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+\-.]*$/;

/**
 * An RFC 3986 URI-reference (§4.1): only URI characters, well-formed percent-escapes, a
 * well-formed scheme when one is present, at most one `#`, and `[`, `]`, `@` and a port
 * only where the authority allows them.
 * @param {string} attr
 * @param {string} value
 */
function uriReference(attr, value) {
  if (value === '') throw invalid(attr, 'must not be empty');
  const char = NOT_URI_CHAR.exec(value);
  const escape = MALFORMED_ESCAPE.exec(value);
  if (escape !== null && (char === null || escape.index < char.index)) {
    throw invalid(attr, 'has a malformed percent-escape');
  }
  if (char !== null) {
    throw invalid(attr, `is not a URI-reference: '${char[0]}' is not allowed`);
  }
  const scheme = schemeOf(value);
  if (scheme !== undefined && !SCHEME.test(scheme)) {
    throw invalid(attr, 'has a malformed URI scheme');
  }
  // The first `#` starts the fragment, which holds no other `#` and no brackets; the
  // brackets of an IP literal belong to the authority alone (RFC 3986 §3.2.2, §3.5).
  const hash = value.indexOf('#');
  const beforeFragment = hash < 0 ? value : value.slice(0, hash);
  if (hash >= 0 && /[#[\]]/.test(value.slice(hash + 1))) {
    throw invalid(attr, 'is not a URI-reference: its fragment holds a `#`, `[` or `]`');
  }
  const rest = scheme === undefined ? beforeFragment : beforeFragment.slice(scheme.length + 1);
  let authority = '';
  let pathAndQuery = rest;
  if (rest.startsWith('//')) {
    const afterSlashes = rest.slice(2);
    const end = afterSlashes.search(/[/?]/);
    authority = end < 0 ? afterSlashes : afterSlashes.slice(0, end);
    pathAndQuery = end < 0 ? '' : afterSlashes.slice(end);
  }
  if (/[[\]]/.test(pathAndQuery)) {
    throw invalid(
      attr,
      'is not a URI-reference: `[` and `]` may only enclose an IP address in the authority',
    );
  }
  const fault = authorityFault(authority);
  if (fault !== undefined) throw invalid(attr, `is not a URI-reference: its authority ${fault}`);
}

/**
 * What is wrong with `[ userinfo "@" ] host [ ":" port ]` (RFC 3986 §3.2), if anything,
 * beyond the characters and escapes already checked.
 * @param {string} authority
 * @returns {string | undefined}
 */
function authorityFault(authority) {
  const at = authority.lastIndexOf('@');
  if (at >= 0 && /[@[\]]/.test(authority.slice(0, at))) {
    return 'has more than one `@` or a bracket in its userinfo';
  }
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  let port;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) return 'has an unclosed `[`';
    const literal = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    const ipFuture = /^[vV]/.test(literal);
    const ipV6 = /^[0-9A-Fa-f:.]+$/.test(literal);
    if (!(ipFuture || ipV6) || literal.includes('[')) return 'has a malformed IP literal';
    if (after.startsWith(':')) port = after.slice(1);
    else if (after === '') port = '';
    else return 'has characters after its IP literal';
  } else if (/[[\]]/.test(hostPort)) {
    return 'has a `[` or `]` outside an IP literal';
  } else {
    const colon = hostPort.lastIndexOf(':');
    port = colon < 0 ? '' : hostPort.slice(colon + 1);
  }
  return /^[0-9]*$/.test(port) ? undefined : 'has a port that is not a number';
}

/**
 * An absolute RFC 3986 URI (§4.3): a URI-reference with a scheme and no fragment.
 * @param {string} attr
 * @param {string} value
 */
function uri(attr, value) {
  uriReference(attr, value);
  const scheme = schemeOf(value);
  if (scheme === undefined || scheme === '') {
    throw invalid(attr, 'must be an absolute URI (with a scheme)');
  }
  if (value.includes('#')) throw invalid(attr, 'must be an absolute URI (no fragment)');
}

/**
 * The scheme: what comes before a `:` that precedes any `/`, `?` or `#`.
 * @param {string} value
 */
function schemeOf(value) {
  const end = value.search(/[:/?#]/);
  return end >= 0 && value[end] === ':' ? value.slice(0, end) : undefined;
}

const RFC_3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/**
 * An RFC 3339 `date-time` (§5.6): date and time joined by `T`, a real calendar date,
 * hours to 23, minutes to 59, seconds to 60 (a leap second) and an offset.
 * @param {string} attr
 * @param {string} value
 */
function timestamp(attr, value) {
  const m = RFC_3339.exec(value);
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = (m ?? [])
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part)));
  const valid =
    m !== null &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysIn(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 60 &&
    offsetHour <= 23 &&
    offsetMinute <= 59;
  if (!valid) {
    throw invalid(
      attr,
      'is not an RFC 3339 timestamp: expected YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)',
    );
  }
}

/** @param {number} year @param {number} month */
function daysIn(year, month) {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

module.exports = { mediaType, name, required, string, timestamp, uri, uriReference };
