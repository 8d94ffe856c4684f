'use strict';
/**
 * Header value coding of the CloudEvents HTTP binding 1.0.2 §3.1.3.1, strict as
 * crates/contract/src/http/percent.rs: an RFC 7230 quoted-string is unquoted first, then
 * the value is percent-decoded exactly once, and a malformed escape or bytes that are not
 * UTF-8 (the overlong `%C0%A0`, a lone surrogate) are refused, not passed through.
 */

const { isUtf8 } = require('node:buffer');

/** Why a header value could not be decoded; `message` follows the attribute's name. */
class DecodeFailure extends Error {}

/** Anything but ASCII, `"` or `%` (and ASCII control characters, for the fast path). */
const NEEDS_DECODING = /[^\x20\x21\x23\x24\x26-\x7e]/;

/**
 * Decodes a `ce-` header value as Node gives it (one character per byte).
 * @param {string} raw
 * @returns {string}
 * @throws {DecodeFailure}
 */
function decode(raw) {
  if (!NEEDS_DECODING.test(raw)) return raw;
  const bytes = percentDecode(unquote(Buffer.from(raw, 'latin1')));
  if (!isUtf8(bytes)) throw new DecodeFailure('is not valid UTF-8 once percent-decoded');
  return bytes.toString('utf8');
}

/**
 * Undoes RFC 7230 §3.2.6 quoted-string escaping when the value is one.
 * @param {Buffer} raw
 */
function unquote(raw) {
  if (raw[0] !== 0x22) return raw;
  if (raw.length < 2 || raw[raw.length - 1] !== 0x22) {
    throw new DecodeFailure('is a malformed quoted-string');
  }
  const out = Buffer.allocUnsafe(raw.length - 2);
  let n = 0;
  for (let i = 1; i < raw.length - 1; i += 1) {
    if (raw[i] === 0x5c) {
      i += 1;
      if (i === raw.length - 1) throw new DecodeFailure('is a malformed quoted-string');
    }
    out[n] = raw[i];
    n += 1;
  }
  return out.subarray(0, n);
}

/** @param {Buffer} bytes */
function percentDecode(bytes) {
  if (!bytes.includes(0x25)) return bytes;
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i += 1) {
    if (bytes[i] === 0x25) {
      const hi = hex(bytes[i + 1]);
      const lo = hex(bytes[i + 2]);
      if (hi < 0 || lo < 0) throw new DecodeFailure('has a malformed percent-escape');
      out[n] = (hi << 4) | lo;
      i += 2;
    } else {
      out[n] = bytes[i];
    }
    n += 1;
  }
  return out.subarray(0, n);
}

/** @param {number | undefined} b */
function hex(b) {
  if (b === undefined) return -1;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  return -1;
}

/** Everything but printable ASCII U+0021-U+007E, and `"` and `%`. */
const NEEDS_ESCAPE = /[^\x21\x23\x24\x26-\x7e]/;

/**
 * Encodes an attribute value for a `ce-` header: every character outside printable
 * ASCII, and space, `"` and `%`, as its UTF-8 bytes in upper-case `%XY`.
 * @param {string} value a valid CloudEvents String (no lone surrogates)
 */
function encode(value) {
  if (!NEEDS_ESCAPE.test(value)) return value;
  let out = '';
  for (const b of Buffer.from(value, 'utf8')) {
    out +=
      b >= 0x21 && b <= 0x7e && b !== 0x22 && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

module.exports = { DecodeFailure, decode, encode };
