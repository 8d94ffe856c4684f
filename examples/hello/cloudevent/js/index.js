'use strict';
// events-js: a CloudEvent function. `handle` gets every event sent to the function and
// may answer with an event of its own; edit it.
//
// `motif run` serves it on port 8080 (`$PORT`); `npm test` runs index.test.js.

const { CloudEvent } = require('cloudevents');

/** The word the function greets with. */
const GREETING = 'hello';

/** The `source` of the events this function sends. */
const SOURCE = '/motif/events-js';

/**
 * The `type` of the events this function sends. A reply carries a type of its own, so
 * that a trigger for the events this function takes does not send it its own replies.
 */
const REPLY_TYPE = 'dev.motif.events-js.reply';

/**
 * Answers an event whose data is JSON such as `{"name": "motif"}` with an event whose
 * data is `{"message": "hello, motif!"}`; an event without data gets no answer.
 *
 * `event` is a `CloudEvent` of the cloudevents SDK, already decoded and validated by the
 * invoker (binary, structured or batch mode). Its `data` is parsed when it is JSON, a
 * string when it is text, else a Buffer. The reply goes back in the mode the event came
 * in; `undefined` is a 204.
 *
 * A thrown error is a problem+json answer: a 500 (the function failed; a broker retries
 * the event), or the error's `status` when it has one, such as 422 for an event the
 * function cannot process (a broker does not retry a 4xx). Handlers may be async.
 */
exports.handle = (event, context) => {
  if (event.data === undefined) {
    return undefined;
  }
  if (typeof event.data !== 'object' || Buffer.isBuffer(event.data)) {
    throw Object.assign(new Error('send JSON data such as {"name": "motif"}'), { status: 422 });
  }
  const name = typeof event.data.name === 'string' ? event.data.name : 'world';
  context.log.info('greeting', { name, event: event.id });
  return new CloudEvent({
    // The reply's id only needs to be unique for its source: derive it from the event's,
    // so a redelivered event gets the same reply.
    id: `${event.id}.reply`,
    source: SOURCE,
    type: REPLY_TYPE,
    datacontenttype: 'application/json',
    data: { message: `${GREETING}, ${name}!` },
  });
};
