'use strict';
/**
 * The JSON event format 1.0.2 (`application/cloudevents+json`) and its batch format
 * (`application/cloudevents-batch+json`), read and written as crates/contract/src/json.rs
 * does, over the record every part of the invoker passes around:
 *
 * `{ attributes, data }`: `attributes` holds `id`, `source`, `type`, the optional core
 * attributes that are set and the extensions (strings, booleans and int32 integers);
 * `specversion` is always 1.0 and not kept. `data` is `undefined` (none), bytes (a
 * `Uint8Array`) or a value: any JSON value with a JSON `datacontenttype` (or none), a
 * string with any other.
 *
 * Writing chooses where data goes from `datacontenttype`:
 * - a JSON type (or none): a value as it is; bytes that are JSON text verbatim;
 * - a textual type that is not JSON: a string, or bytes that are UTF-8, as a string;
 * - anything else: `data_base64`.
 */

const { isUtf8 } = require('node:buffer');
const { isJson, isTextual } = require('../media');
const {
  dataConflict,
  invalid,
  invalidData,
  invalidJson,
  missingAttribute,
  unsupportedSpecVersion,
} = require('./error');
const validate = require('./validate');

/** @typedef {string | boolean | number} AttributeValue */
/** @typedef {{attributes: Record<string, AttributeValue>, data: unknown}} EventRecord */

/** The only `specversion` motif produces and accepts. */
const SPEC_VERSION = '1.0';

/** The attributes the core specification defines. */
const CORE = new Set([
  'id',
  'source',
  'specversion',
  'type',
  'datacontenttype',
  'dataschema',
  'subject',
  'time',
]);

/** Standard base64 with padding, as the JSON format's `data_base64` holds (RFC 4648 §4). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parses a request body in the JSON format (one event) or the batch format (an array).
 * @param {Buffer} body
 * @returns {unknown}
 */
function parseBody(body) {
  if (!isUtf8(body)) throw invalidJson('it is not UTF-8');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw invalidJson(/** @type {Error} */ (e).message);
  }
}

/**
 * One event from a parsed JSON value. `null` means unset (JSON format §2.4); the first
 * rule broken, in member order, is reported. JSON.parse keeps the last of duplicate
 * members, so (unlike the Rust invoker) duplicates are not refused.
 * @param {unknown} json
 * @returns {EventRecord}
 */
function fromJson(json) {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw invalidJson('expected a CloudEvent as a JSON object');
  }
  const object = /** @type {Record<string, unknown>} */ (json);
  /** @type {Record<string, AttributeValue>} */
  const attributes = {};
  let specversion;
  let hasData = false;
  let dataBase64;
  let failure;
  for (const key of Object.keys(object)) {
    const value = object[key];
    try {
      if (key === 'data') {
        hasData = true;
      } else if (key === 'data_base64') {
        if (value !== null && typeof value !== 'string') {
          throw invalidData(`\`data_base64\` must be a JSON string, not ${kind(value)}`);
        }
        dataBase64 = value ?? undefined;
      } else {
        validate.name(key);
        if (value === null) continue;
        if (!CORE.has(key)) {
          attributes[key] = extensionValue(key, value);
        } else if (typeof value !== 'string') {
          throw invalid(key, `must be a JSON string, not ${kind(value)}`);
        } else if (key === 'specversion') {
          specversion = value;
        } else {
          attributes[key] = value;
        }
      }
    } catch (e) {
      failure ??= e;
    }
  }
  if (failure !== undefined) throw failure;
  if (specversion === undefined) throw missingAttribute('specversion');
  if (specversion !== SPEC_VERSION) throw unsupportedSpecVersion(specversion);
  if (hasData && dataBase64 !== undefined) throw dataConflict();
  let data;
  if (dataBase64 !== undefined) {
    if (!BASE64.test(dataBase64)) throw invalidData('`data_base64` is not valid base64');
    data = Buffer.from(dataBase64, 'base64');
  } else if (hasData) {
    data = dataValue(object.data, /** @type {string | undefined} */ (attributes.datacontenttype));
  }
  for (const name of ['id', 'source', 'type']) {
    if (attributes[name] === undefined) throw missingAttribute(name);
  }
  validateAttributes(attributes);
  return { attributes, data };
}

/**
 * A `data` member: any JSON value for a JSON content type, else a string (or `null`,
 * which is no data).
 * @param {unknown} value
 * @param {string | undefined} datacontenttype
 */
function dataValue(value, datacontenttype) {
  if (datacontenttype === undefined || isJson(datacontenttype)) return value;
  if (value === null) return undefined;
  if (typeof value !== 'string') {
    throw invalidData(
      `\`data\` must be a JSON string when datacontenttype is \`${datacontenttype}\`; send binary data as \`data_base64\``,
    );
  }
  return value;
}

/**
 * An extension's JSON value: a string, a boolean or an int32 integer.
 * @param {string} name
 * @param {unknown} value
 * @returns {AttributeValue}
 */
function extensionValue(name, value) {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= -2147483648 && value <= 2147483647) return value;
    throw invalid(name, 'must be an Integer: a whole number in the int32 range');
  }
  throw invalid(name, `must be a string, boolean or integer, not ${kind(value)}`);
}

/**
 * Checks every attribute against its type (CloudEvents 1.0.2 §3.1, §3.3); names and
 * value kinds were checked as they were read.
 * @param {Record<string, AttributeValue>} a
 */
function validateAttributes(a) {
  validate.required('id', /** @type {string} */ (a.id));
  validate.uriReference('source', /** @type {string} */ (a.source));
  validate.required('type', /** @type {string} */ (a.type));
  for (const name of Object.keys(a)) {
    const value = a[name];
    switch (name) {
      case 'id':
      case 'source':
      case 'type':
        break;
      case 'datacontenttype':
        validate.mediaType(name, /** @type {string} */ (value));
        break;
      case 'dataschema':
        validate.uri(name, /** @type {string} */ (value));
        break;
      case 'subject':
        validate.required(name, /** @type {string} */ (value));
        break;
      case 'time':
        validate.timestamp(name, /** @type {string} */ (value));
        break;
      default:
        if (typeof value === 'string') validate.string(name, value);
    }
  }
}

/** @param {unknown} v */
function kind(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return { boolean: 'a boolean', number: 'a number', string: 'a string' }[typeof v] ?? 'an object';
}

/**
 * A batch from a parsed JSON value: an array of events, possibly empty.
 * @param {unknown} json
 * @returns {EventRecord[]}
 */
function batchFromJson(json) {
  if (!Array.isArray(json)) throw invalidJson('expected a JSON array of CloudEvents');
  return json.map(fromJson);
}

/**
 * One event in the JSON format.
 * @param {EventRecord} record
 * @returns {string}
 */
function toJson(record) {
  const head = JSON.stringify({ specversion: SPEC_VERSION, ...record.attributes });
  const data = dataMember(record);
  return data === undefined ? head : `${head.slice(0, -1)},${data}}`;
}

/**
 * A batch in the batch format.
 * @param {EventRecord[]} records
 */
function batchToJson(records) {
  return `[${records.map(toJson).join(',')}]`;
}

/**
 * The `data` or `data_base64` member, as JSON text, or `undefined` without data.
 * @param {EventRecord} record
 */
function dataMember({ attributes, data }) {
  if (data === undefined) return undefined;
  const ct = /** @type {string | undefined} */ (attributes.datacontenttype);
  const json = ct === undefined || isJson(ct);
  if (data instanceof Uint8Array) {
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (isUtf8(bytes)) {
      const text = bytes.toString('utf8');
      if (json && isJsonText(text)) return `"data":${text}`;
      if (!json && isTextual(/** @type {string} */ (ct))) return `"data":${JSON.stringify(text)}`;
    }
    return `"data_base64":"${bytes.toString('base64')}"`;
  }
  if (json) return `"data":${stringify(data)}`;
  if (typeof data !== 'string') throw notText(/** @type {string} */ (ct));
  if (isTextual(/** @type {string} */ (ct))) return `"data":${JSON.stringify(data)}`;
  return `"data_base64":"${Buffer.from(data, 'utf8').toString('base64')}"`;
}

/**
 * The body and `Content-Type` of an event's data in binary mode. Data given as a value
 * with no `datacontenttype` is JSON, and says so.
 * @param {EventRecord} record
 * @returns {{body: Uint8Array | string, contentType: string | undefined}}
 */
function dataBody({ attributes, data }) {
  const ct = /** @type {string | undefined} */ (attributes.datacontenttype);
  if (data === undefined) return { body: '', contentType: ct };
  if (data instanceof Uint8Array) return { body: data, contentType: ct };
  if (ct === undefined || isJson(ct)) {
    return { body: stringify(data), contentType: ct ?? 'application/json' };
  }
  if (typeof data !== 'string') throw notText(ct);
  return { body: data, contentType: ct };
}

/** @param {string} ct */
function notText(ct) {
  return invalidData(
    `\`data\` must be a string or bytes when datacontenttype is \`${ct}\`, which is not JSON`,
  );
}

/** @param {unknown} value */
function stringify(value) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw invalidData(`\`data\` cannot be written as JSON: ${/** @type {Error} */ (e).message}`);
  }
  if (text === undefined) {
    throw invalidData(`\`data\` cannot be written as JSON: it is ${typeof value}`);
  }
  return text;
}

/** @param {string} text */
function isJsonText(text) {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

module.exports = {
  BASE64,
  CORE,
  SPEC_VERSION,
  batchFromJson,
  batchToJson,
  dataBody,
  extensionValue,
  fromJson,
  parseBody,
  toJson,
  validateAttributes,
};
