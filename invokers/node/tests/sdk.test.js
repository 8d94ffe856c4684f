'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { CloudEvent } = require('cloudevents');
const { EventBridge } = require('../lib/events/sdk');

const bridge = new EventBridge(__filename);
const attributes = { id: '1', source: '/s', type: 't' };

test('a handler receives the sdk CloudEvent, frozen, with no attribute invented', () => {
  const event = bridge.toEvent(
    { attributes: { ...attributes, subject: 'café' }, data: undefined },
    'binary',
  );
  assert.ok(event instanceof CloudEvent);
  assert.ok(Object.isFrozen(event));
  assert.equal(event.specversion, '1.0');
  assert.equal(event.subject, 'café');
  assert.equal(event.time, undefined);
  assert.equal(event.data, undefined);
  assert.equal(typeof event.cloneWith, 'function');
});

test('a received event writes itself in the json event format', () => {
  const event = bridge.toEvent(
    {
      attributes: { ...attributes, datacontenttype: 'application/octet-stream' },
      data: Buffer.from([0, 1]),
    },
    'binary',
  );
  assert.deepEqual(JSON.parse(JSON.stringify(event)), {
    specversion: '1.0',
    ...attributes,
    datacontenttype: 'application/octet-stream',
    data_base64: 'AAE=',
  });
});

test('binary-mode data arrives parsed for json, as text for utf-8 text, else as a buffer', () => {
  const data = (datacontenttype, body) =>
    bridge.toEvent(
      {
        attributes: { ...attributes, ...(datacontenttype && { datacontenttype }) },
        data: Buffer.from(body),
      },
      'binary',
    ).data;
  assert.deepEqual(data('application/vnd.x+json', '{"a":1}'), { a: 1 });
  assert.equal(data('text/plain; charset=utf-8', 'hé'), 'hé');
  assert.ok(Buffer.isBuffer(data('text/plain; charset=latin1', 'h\xe9')));
  assert.ok(Buffer.isBuffer(data('application/octet-stream', 'x')));
  assert.ok(Buffer.isBuffer(data(undefined, '{"a":1}')));
  assert.throws(
    () => data('application/json', '{nope'),
    (e) => e.problem().status === 400,
  );
});

test('structured data arrives as it was written; data_base64 as a buffer', () => {
  const data = (datacontenttype, d) =>
    bridge.toEvent({ attributes: { ...attributes, datacontenttype }, data: d }, 'structured').data;
  assert.deepEqual(data('application/json', { a: 1 }), { a: 1 });
  assert.equal(data('text/plain', 'hi'), 'hi');
  assert.deepEqual(data('application/octet-stream', 'hi'), Buffer.from('hi'));
  assert.deepEqual(data('application/json', Buffer.from([1, 2])), Buffer.from([1, 2]));
});

test('a received event returned unchanged keeps the bytes it came with', () => {
  const record = {
    attributes: { ...attributes, datacontenttype: 'application/json' },
    data: Buffer.from('{ "a" : 1 }'),
  };
  assert.equal(bridge.fromReturned(bridge.toEvent(record, 'binary')), record);
});

test('a plain object of attributes makes a reply, with a fresh id', () => {
  const r = bridge.fromReturned({
    source: '/s',
    type: 't',
    myext: 7,
    when: new Date(0),
    data: { a: 1 },
  });
  assert.match(r.attributes.id, /^[0-9a-f-]{36}$/);
  assert.equal(r.attributes.myext, 7);
  assert.equal(r.attributes.when, '1970-01-01T00:00:00.000Z');
  assert.deepEqual(r.data, { a: 1 });
  assert.equal(bridge.fromReturned(undefined), undefined);
  assert.equal(bridge.fromReturned(null), undefined);
});

test('an sdk-made event with bytes replies with those bytes', () => {
  const r = bridge.fromReturned(
    new CloudEvent({ source: '/s', type: 't', data: Buffer.from([7]) }),
  );
  assert.deepEqual(Buffer.from(r.data), Buffer.from([7]));
  assert.equal(r.attributes.data_base64, undefined);
});

test('an invalid reply says what is wrong with it', () => {
  for (const [reply, pattern] of [
    [{ type: 't' }, /source/],
    [{ source: '/s', type: '' }, /type/],
    [{ source: '/s', type: 't', specversion: '0.3' }, /0\.3/],
    [{ source: '/s', type: 't', big: 2 ** 40 }, /int32/],
    [{ source: '/s', type: 't', 'My-Ext': 'x' }, /My-Ext/],
    [{ source: '/s', type: 't', subject: 42 }, /subject/],
    ['a string', /not a CloudEvent/],
  ]) {
    assert.throws(() => bridge.fromReturned(reply), pattern, JSON.stringify(reply));
  }
});
