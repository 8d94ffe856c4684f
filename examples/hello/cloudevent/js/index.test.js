'use strict';
// The handler's tests: `npm test` (node --test) runs them, with no server.
const assert = require('node:assert/strict');
const { test } = require('node:test');
const { CloudEvent } = require('cloudevents');

const { handle } = require('./index.js');

const GREETING = 'hello';
const REPLY_TYPE = 'dev.motif.events-js.reply';

/** An event as a client would send it to the function. */
function event(data, datacontenttype = 'application/json') {
  return new CloudEvent({
    id: '42',
    source: '/tests',
    type: 'dev.motif.greet',
    ...(data === undefined ? {} : { datacontenttype, data }),
  });
}

/** A context whose logger keeps quiet. */
const context = {
  functionName: 'events-js',
  log: { info() {}, warn() {}, error() {} },
};

test('answers with a greeting for the name', () => {
  const reply = handle(event({ name: 'motif' }), context);
  assert.ok(reply instanceof CloudEvent);
  assert.equal(reply.id, '42.reply');
  assert.equal(reply.source, '/motif/events-js');
  assert.equal(reply.type, REPLY_TYPE);
  assert.equal(reply.datacontenttype, 'application/json');
  assert.deepEqual(reply.data, { message: `${GREETING}, motif!` });
});

test('greets the world without a name', () => {
  assert.deepEqual(handle(event({}), context).data, { message: `${GREETING}, world!` });
});

test('an event without data gets no reply', () => {
  assert.equal(handle(event(undefined), context), undefined);
});

test('data that is not JSON is a 422', () => {
  assert.throws(() => handle(event('motif', 'text/plain'), context), { status: 422 });
});
