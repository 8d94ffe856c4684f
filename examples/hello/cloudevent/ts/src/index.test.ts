// The handler's tests: `npm test` compiles them and runs them with node:test, with no
// server.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CloudEvent } from 'cloudevents';

import { type Context, REPLY_TYPE, SOURCE, handle } from './index';

const GREETING = 'hello';

/** An event as a client would send it to the function. */
function event(data?: unknown, datacontenttype = 'application/json'): CloudEvent<unknown> {
  return new CloudEvent<unknown>({
    id: '42',
    source: '/tests',
    type: 'dev.motif.greet',
    ...(data === undefined ? {} : { datacontenttype, data }),
  });
}

/** A context whose logger keeps quiet. */
const context: Context = {
  functionName: 'events-ts',
  deadline: Date.now() + 60_000,
  log: { info() {}, warn() {}, error() {} },
};

test('answers with a greeting for the name', () => {
  const reply = handle(event({ name: 'motif' }), context);
  assert.ok(reply instanceof CloudEvent);
  assert.equal(reply.id, '42.reply');
  assert.equal(reply.source, SOURCE);
  assert.equal(reply.type, REPLY_TYPE);
  assert.equal(reply.datacontenttype, 'application/json');
  assert.deepEqual(reply.data, { message: `${GREETING}, motif!` });
});

test('greets the world without a name', () => {
  assert.deepEqual(handle(event({}), context)?.data, { message: `${GREETING}, world!` });
});

test('an event without data gets no reply', () => {
  assert.equal(handle(event(), context), undefined);
});

test('data that is not JSON is a 422', () => {
  assert.throws(() => handle(event('motif', 'text/plain'), context), { status: 422 });
});
