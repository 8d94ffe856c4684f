'use strict';
/**
 * Why an event or a request could not be decoded, with the wording of
 * crates/contract/src/error.rs and the problem each answers with (400, or 415 for an
 * unsupported event format).
 */

const { Problem, unsupportedMediaType } = require('../problem');

/** An event that breaks a rule of CloudEvents 1.0.2, or a request that carries none. */
class EventError extends Error {
  /**
   * @param {string} message
   * @param {{attribute?: string, missing?: string[], unsupportedFormat?: boolean}} [details]
   *   the attribute at fault; the `ce-` headers a non-event lacked; a 415 rather than a 400
   */
  constructor(message, details = {}) {
    super(message);
    this.name = 'EventError';
    this.attribute = details.attribute;
    this.missing = details.missing;
    this.unsupportedFormat = details.unsupportedFormat ?? false;
  }

  /** The problem the contract answers this error with. */
  problem() {
    let p;
    if (this.unsupportedFormat) {
      p = unsupportedMediaType(this.message);
    } else if (this.missing !== undefined) {
      const detail = `${this.message}; send a CloudEvent in binary mode (ce- headers) or structured mode (Content-Type: application/cloudevents+json)`;
      p = new Problem(400, 'not-a-cloudevent', 'Not a CloudEvent', detail, {
        missing: this.missing,
      });
    } else {
      p = new Problem(400, 'invalid-event', 'Invalid CloudEvent', this.message);
    }
    if (this.attribute !== undefined) p.extensions.attribute = this.attribute;
    return p;
  }
}

/** @param {string} name @param {string} reason a fragment that follows the name */
const invalid = (name, reason) =>
  new EventError(`attribute \`${name}\` ${reason}`, { attribute: name });
/** @param {string} name */
const missingAttribute = (name) =>
  new EventError(`missing required attribute \`${name}\``, { attribute: name });
/** @param {string} name */
const invalidName = (name) =>
  new EventError(`attribute name \`${name}\` is invalid: names are one or more of a-z and 0-9`, {
    attribute: name,
  });
/** @param {string} name */
const duplicate = (name) =>
  new EventError(`attribute \`${name}\` appears more than once`, { attribute: name });
/** @param {string} found */
const unsupportedSpecVersion = (found) =>
  new EventError(`specversion \`${found}\` is not supported: motif speaks CloudEvents 1.0`, {
    attribute: 'specversion',
  });
const dataContentTypeHeader = () =>
  new EventError(
    "header `ce-datacontenttype` is not allowed in binary mode: send the data's type as `Content-Type`",
    { attribute: 'datacontenttype' },
  );
const dataConflict = () =>
  new EventError('event has both `data` and `data_base64`: they are mutually exclusive');
/** @param {string} reason */
const invalidData = (reason) => new EventError(reason);
/** @param {string} reason */
const invalidJson = (reason) => new EventError(`body is not a valid JSON event: ${reason}`);
/** @param {string[]} missing the `ce-` headers */
const notACloudEvent = (missing) =>
  new EventError(
    `request is not a CloudEvent: missing header${missing.length === 1 ? '' : 's'} ${missing.map((h) => `\`${h}\``).join(', ')}`,
    { missing },
  );
/** @param {string} mediaType */
const unsupportedFormat = (mediaType) =>
  new EventError(
    `event format \`${mediaType}\` is not supported: use application/cloudevents+json`,
    { unsupportedFormat: true },
  );

module.exports = {
  EventError,
  dataConflict,
  dataContentTypeHeader,
  duplicate,
  invalid,
  invalidData,
  invalidJson,
  invalidName,
  missingAttribute,
  notACloudEvent,
  unsupportedFormat,
  unsupportedSpecVersion,
};
