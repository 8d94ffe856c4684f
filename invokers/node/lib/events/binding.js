'use strict';
/**
 * The CloudEvents HTTP protocol binding 1.0.2 (CONTRACT.md §3): binary, structured and
 * batched modes, decoded from a request and encoded into a reply, over the records of
 * `./json`.
 */

const media = require('../media');
const {
  dataContentTypeHeader,
  duplicate,
  invalid,
  notACloudEvent,
  unsupportedFormat,
  unsupportedSpecVersion,
} = require('./error');
const json = require('./json');
const percent = require('./percent');
const validate = require('./validate');

/** @typedef {import('./json').EventRecord} EventRecord */
/** @typedef {'binary' | 'structured' | 'batch'} Mode */

/** The headers a binary-mode message must carry, in the order they are reported. */
const REQUIRED = ['id', 'source', 'specversion', 'type'];

/** `Content-Type` values a header may hold: visible ASCII, space and tab. */
const VISIBLE_ASCII = /^[\t\x20-\x7e]*$/;

/**
 * The mode of a message from its `Content-Type`, case-insensitively, parameters ignored:
 * the batch prefix first, then the structured one; anything else is binary (§3).
 * @param {string | undefined} contentType
 * @returns {Mode}
 */
function modeOf(contentType) {
  if (contentType === undefined) return 'binary';
  const ct = contentType.trimStart();
  if (media.startsWithIgnoreCase(ct, 'application/cloudevents-batch')) return 'batch';
  if (media.startsWithIgnoreCase(ct, 'application/cloudevents')) return 'structured';
  return 'binary';
}

/**
 * Decodes a request in whichever mode its `Content-Type` says.
 * @param {string[]} rawHeaders name, value, name, value… as Node gives them
 * @param {string | undefined} contentType
 * @param {Buffer} body
 * @returns {{mode: Mode, records: EventRecord[]}}
 */
function decode(rawHeaders, contentType, body) {
  const mode = modeOf(contentType);
  switch (mode) {
    case 'binary':
      return { mode, records: [decodeBinary(rawHeaders, contentType, body)] };
    case 'structured':
      requireFormat(/** @type {string} */ (contentType), media.CLOUDEVENTS_JSON);
      return { mode, records: [json.fromJson(json.parseBody(body))] };
    default:
      requireFormat(/** @type {string} */ (contentType), media.CLOUDEVENTS_BATCH_JSON);
      return { mode, records: json.batchFromJson(json.parseBody(body)) };
  }
}

/**
 * @param {string} contentType
 * @param {string} expected
 */
function requireFormat(contentType, expected) {
  const essence = media.essence(contentType);
  if (essence.toLowerCase() !== expected) throw unsupportedFormat(essence);
}

/**
 * Decodes a binary-mode message: attributes from `ce-` headers (unquoted, then
 * percent-decoded exactly once), `datacontenttype` from `Content-Type`, data from the
 * body. An empty body is no data.
 * @param {string[]} rawHeaders
 * @param {string | undefined} contentType
 * @param {Buffer} body
 * @returns {EventRecord}
 */
function decodeBinary(rawHeaders, contentType, body) {
  /** @type {Record<string, string>} */
  const attributes = {};
  const seen = new Set();
  let specversion;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const header = rawHeaders[i].toLowerCase();
    if (!header.startsWith('ce-')) continue;
    const name = header.slice(3);
    if (seen.has(name)) throw duplicate(name);
    seen.add(name);
    validate.name(name);
    let value;
    try {
      value = percent.decode(rawHeaders[i + 1]);
    } catch (e) {
      if (!(e instanceof percent.DecodeFailure)) throw e;
      throw invalid(name, e.message);
    }
    if (name === 'specversion') specversion = value;
    else if (name === 'datacontenttype') throw dataContentTypeHeader();
    else attributes[name] = value;
  }
  const missing = REQUIRED.filter((name) => !seen.has(name)).map((name) => `ce-${name}`);
  if (missing.length > 0) throw notACloudEvent(missing);
  if (specversion !== json.SPEC_VERSION) {
    throw unsupportedSpecVersion(/** @type {string} */ (specversion));
  }
  if (contentType !== undefined) {
    if (!VISIBLE_ASCII.test(contentType)) {
      throw invalid('datacontenttype', '(Content-Type) is not visible ASCII');
    }
    attributes.datacontenttype = contentType;
  }
  json.validateAttributes(attributes);
  return { attributes, data: body.length === 0 ? undefined : body };
}

/**
 * Whether binary mode can carry `record`. It cannot when its `datacontenttype` is itself
 * a CloudEvents format: that `Content-Type` would make the receiver read the data as the
 * event (§3).
 * @param {EventRecord} record
 */
function binaryCarries(record) {
  const ct = record.attributes.datacontenttype;
  return !(
    typeof ct === 'string' && media.startsWithIgnoreCase(ct.trimStart(), 'application/cloudevents')
  );
}

/**
 * Encodes one event in binary mode (when it can carry it) or structured mode.
 * @param {EventRecord} record
 * @param {'binary' | 'structured'} mode
 * @returns {{headers: Record<string, string>, body: Uint8Array | string}}
 */
function encode(record, mode) {
  if (mode === 'binary' && binaryCarries(record)) return encodeBinary(record);
  return { headers: { 'content-type': media.CLOUDEVENTS_JSON }, body: json.toJson(record) };
}

/**
 * Encodes events in batched mode.
 * @param {EventRecord[]} records
 */
function encodeBatch(records) {
  return {
    headers: { 'content-type': media.CLOUDEVENTS_BATCH_JSON },
    body: json.batchToJson(records),
  };
}

/**
 * Encodes one event in binary mode: `ce-` headers percent-encoded, `datacontenttype` as
 * `Content-Type`, data as the body.
 * @param {EventRecord} record
 */
function encodeBinary(record) {
  /** @type {Record<string, string>} */
  const headers = { 'ce-specversion': json.SPEC_VERSION };
  const { attributes } = record;
  for (const name of Object.keys(attributes)) {
    if (name !== 'datacontenttype') {
      headers[`ce-${name}`] = percent.encode(String(attributes[name]));
    }
  }
  const { body, contentType } = json.dataBody(record);
  if (contentType !== undefined) headers['content-type'] = contentType;
  return { headers, body };
}

module.exports = { binaryCarries, decode, encode, encodeBatch, modeOf };
