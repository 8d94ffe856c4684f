'use strict';
/**
 * The bridge to the `cloudevents` SDK: a cloudevent handler receives the SDK's
 * `CloudEvent`, the type its users know, and may return one (or a plain object of
 * attributes). Decoding, validation and encoding are the invoker's own (`./binding`,
 * see EVALUATION.md for why); the SDK supplies the class.
 *
 * A received event is made from the class's prototype rather than its constructor, which
 * would add a `time` and an `id` the event did not have; it is frozen, as the SDK's
 * events are. Its `toJSON` writes the JSON event format: the SDK's own would throw on an
 * event without `time` and write binary data as an array of numbers.
 */

const { createRequire } = require('node:module');
const { randomUUID } = require('node:crypto');
const { isUtf8 } = require('node:buffer');
const { isJson, isTextual } = require('../media');
const { invalid, invalidData, missingAttribute, unsupportedSpecVersion } = require('./error');
const json = require('./json');
const validate = require('./validate');

/** @typedef {import('./json').EventRecord} EventRecord */

const UTF8_CHARSET = /^(?:utf-?8|us-ascii)$/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;

/**
 * Loads the SDK the function itself would load (so that `instanceof CloudEvent` holds in
 * its code), else the invoker's own.
 * @param {string} functionFile
 * @returns {typeof import('cloudevents').CloudEvent}
 */
function loadCloudEventClass(functionFile) {
  try {
    return createRequire(functionFile)('cloudevents').CloudEvent;
  } catch {
    return require('cloudevents').CloudEvent;
  }
}

/** Converts between the invoker's event records and the SDK's events. */
class EventBridge {
  /** @param {string} functionFile the function's module, from where the SDK is resolved */
  constructor(functionFile) {
    const CloudEvent = loadCloudEventClass(functionFile);
    /** Events handed to the handler, with the record each was made from. */
    const received = new WeakMap();
    this.received = received;
    this.Received = class ReceivedCloudEvent extends CloudEvent {
      toJSON() {
        return JSON.parse(json.toJson(received.get(this)));
      }
    };
  }

  /**
   * The SDK event a handler receives. Data arrives as the SDK's users expect it: a
   * binary-mode body of a JSON type parsed, of a UTF-8 text type as a string, else a
   * Buffer; `data_base64` as a Buffer; a structured `data` member as it is.
   * @param {EventRecord} record
   * @param {import('./binding').Mode} mode
   */
  toEvent(record, mode) {
    const event = Object.create(this.Received.prototype);
    event.specversion = json.SPEC_VERSION;
    Object.assign(event, record.attributes);
    const data = mode === 'binary' ? bodyData(record) : structuredData(record);
    if (data !== undefined) event.data = data;
    Object.freeze(event);
    this.received.set(event, record);
    return event;
  }

  /**
   * The record of what a handler returned: `undefined` for no reply; a received event
   * as it came (it is frozen, so unchanged); any other object read as the attributes of
   * a CloudEvent, `id` defaulting to a random UUID and `specversion` to 1.0.
   * @param {unknown} value
   * @returns {EventRecord | undefined}
   * @throws {import('./error').EventError} when it is not a valid CloudEvent
   */
  fromReturned(value) {
    if (value === undefined || value === null) return undefined;
    const known = this.received.get(/** @type {object} */ (value));
    if (known !== undefined) return known;
    if (typeof value !== 'object') {
      throw invalidData(`the function returned ${typeof value}, not a CloudEvent`);
    }
    const object = /** @type {Record<string, unknown>} */ (value);
    /** @type {Record<string, import('./json').AttributeValue>} */
    const attributes = {};
    let data;
    let dataBase64;
    for (const key of Object.keys(object)) {
      const v = object[key];
      if (v === undefined || v === null) continue;
      if (key === 'data') data = v;
      else if (key === 'data_base64') dataBase64 = v;
      else if (key === 'specversion') {
        if (v !== json.SPEC_VERSION) throw unsupportedSpecVersion(String(v));
      } else {
        validate.name(key);
        attributes[key] = json.CORE.has(key) ? coreValue(key, v) : extensionValue(key, v);
      }
    }
    attributes.id ??= randomUUID();
    for (const name of ['source', 'type']) {
      if (attributes[name] === undefined) throw missingAttribute(name);
    }
    if (data === undefined && dataBase64 !== undefined) {
      if (typeof dataBase64 !== 'string' || !json.BASE64.test(dataBase64)) {
        throw invalidData('`data_base64` is not valid base64');
      }
      data = Buffer.from(dataBase64, 'base64');
    }
    json.validateAttributes(attributes);
    return { attributes, data: asBytes(data) };
  }
}

/**
 * @param {string} name
 * @param {unknown} value
 */
function coreValue(name, value) {
  if (name === 'time' && value instanceof Date) return value.toISOString();
  if (typeof value !== 'string') throw invalid(name, `must be a string, not ${typeof value}`);
  return value;
}

/**
 * An extension's value: a string, boolean or int32 integer; a `Date` (Timestamp) or bytes
 * (Binary) in their canonical string forms.
 * @param {string} name
 * @param {unknown} value
 */
function extensionValue(name, value) {
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return json.extensionValue(name, value);
}

/**
 * Any typed array, `DataView` or `ArrayBuffer` as a `Uint8Array` over the same bytes;
 * anything else as it is.
 * @param {unknown} data
 */
function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

/** @param {EventRecord} record */
function bodyData({ attributes, data }) {
  const ct = /** @type {string | undefined} */ (attributes.datacontenttype);
  if (!(data instanceof Buffer) || ct === undefined) return data;
  if (isJson(ct)) {
    try {
      return JSON.parse(data.toString('utf8'));
    } catch (e) {
      throw invalidData(
        `the body is not the JSON its Content-Type \`${ct}\` says: ${/** @type {Error} */ (e).message}`,
      );
    }
  }
  if (isTextual(ct) && UTF8_CHARSET.test(CHARSET.exec(ct)?.[1] ?? 'utf-8') && isUtf8(data)) {
    return data.toString('utf8');
  }
  return data;
}

/** @param {EventRecord} record */
function structuredData({ attributes, data }) {
  const ct = /** @type {string | undefined} */ (attributes.datacontenttype);
  if (typeof data === 'string' && ct !== undefined && !isJson(ct) && !isTextual(ct)) {
    return Buffer.from(data, 'utf8');
  }
  return data;
}

module.exports = { EventBridge };
