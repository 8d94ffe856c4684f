'use strict';
// The cloudevent kind over a real socket: modes in and out, negotiation, batches,
// tracing and the answers to what is not a valid event.
const test = require('node:test');
const assert = require('node:assert/strict');
const { CloudEvent } = require('cloudevents');
const { serve } = require('./helpers');

const CE = {
  'ce-specversion': '1.0',
  'ce-id': 'e1',
  'ce-source': '/orders',
  'ce-type': 'com.example.order',
};
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** @param {Function} handle */
const serveEvents = (handle) => serve(handle, { MOTIF_FUNCTION_KIND: 'cloudevent' });

test('an echo returns a binary event unchanged, bytes and percent-encoding included', async (t) => {
  let received;
  const s = await serveEvents((event) => {
    received = event;
    return event;
  });
  t.after(() => s.close());
  const res = await fetch(s.url, {
    method: 'POST',
    headers: {
      ...CE,
      'ce-subject': 'caf%C3%A9%20au%20lait',
      'ce-myext': 'v',
      'content-type': 'application/json',
      traceparent: TRACEPARENT,
    },
    body: '{ "order" : 42 }',
  });
  assert.equal(res.status, 200);
  assert.ok(received instanceof CloudEvent);
  assert.deepEqual(received.data, { order: 42 });
  assert.equal(received.subject, 'café au lait');
  assert.equal(res.headers.get('ce-subject'), 'caf%C3%A9%20au%20lait');
  assert.equal(res.headers.get('ce-myext'), 'v');
  assert.equal(res.headers.get('ce-id'), 'e1');
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.match(
    res.headers.get('ce-traceparent'),
    /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/,
  );
  assert.equal(await res.text(), '{ "order" : 42 }');
});

test('a structured event gets a structured reply built from a plain object', async (t) => {
  const s = await serveEvents((event) => ({
    source: '/motif/test',
    type: `${event.type}.reply`,
    data: event.data,
  }));
  t.after(() => s.close());
  const res = await fetch(s.url, {
    method: 'POST',
    headers: { 'content-type': 'Application/CloudEvents+JSON; charset=utf-8', 'ce-id': 'ignored' },
    body: '{"specversion":"1.0","id":"e2","source":"/o","type":"t","data":{"a":[1,2]}}',
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/cloudevents+json');
  const reply = await res.json();
  assert.equal(reply.type, 't.reply');
  assert.deepEqual(reply.data, { a: [1, 2] });
  assert.match(reply.id, /^[0-9a-f-]{36}$/);
  assert.match(reply.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
});

test('no reply is a 204', async (t) => {
  const s = await serveEvents(() => undefined);
  t.after(() => s.close());
  const res = await fetch(s.url, { method: 'POST', headers: CE });
  assert.equal(res.status, 204);
});

test('accept chooses the reply mode, and a reply no accepted type can carry is a 406', async (t) => {
  const s = await serveEvents((event) => event);
  t.after(() => s.close());
  const send = (accept) =>
    fetch(s.url, {
      method: 'POST',
      headers: { ...CE, 'content-type': 'application/json', accept },
      body: '{}',
    });
  const structured = await send('application/cloudevents+json');
  assert.equal(structured.headers.get('content-type'), 'application/cloudevents+json');
  assert.deepEqual((await structured.json()).data, {});
  const refused = await send('text/html');
  assert.equal(refused.status, 406);
  assert.equal((await refused.json()).type, 'https://motif.dev/problems/not-acceptable');
});

test('a batch runs the handler once per event, in order, and replies as asked', async (t) => {
  const seen = [];
  const s = await serveEvents((event) => {
    seen.push(event.id);
    return event.id === 'skip' ? undefined : { source: '/r', type: 'reply', data: event.id };
  });
  t.after(() => s.close());
  const batch = (ids, accept) =>
    fetch(s.url, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json', ...(accept && { accept }) },
      body: JSON.stringify(ids.map((id) => ({ specversion: '1.0', id, source: '/s', type: 't' }))),
    });
  const asBatch = await batch(['b1', 'skip', 'b2'], 'application/cloudevents-batch+json');
  assert.deepEqual(seen, ['b1', 'skip', 'b2']);
  assert.equal(asBatch.headers.get('content-type'), 'application/cloudevents-batch+json');
  assert.deepEqual(
    (await asBatch.json()).map((e) => e.data),
    ['b1', 'b2'],
  );
  const one = await batch(['b1', 'skip']);
  assert.equal(one.headers.get('content-type'), 'application/cloudevents+json');
  assert.equal((await one.json()).data, 'b1');
  assert.equal((await batch(['b1', 'b2'])).status, 406);
  assert.equal((await batch([])).status, 204);
});

test('a failure in a batch names the event', async (t) => {
  const s = await serveEvents((event) => {
    if (event.id === 'bad') throw Object.assign(new Error('nope'), { status: 422 });
  });
  t.after(() => s.close());
  const res = await fetch(s.url, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json' },
    body: JSON.stringify(
      ['ok', 'bad'].map((id) => ({ specversion: '1.0', id, source: '/s', type: 't' })),
    ),
  });
  assert.equal(res.status, 422);
  assert.equal((await res.json()).detail, 'event 1 of the batch (id `bad`): nope');
});

test('what is not a valid event is a 400 or 415 problem, and the handler never runs', async (t) => {
  let ran = false;
  const s = await serveEvents(() => {
    ran = true;
  });
  t.after(() => s.close());
  const cases = [
    [{ 'ce-id': 'x', 'content-type': 'application/json' }, '{}', 400, 'not-a-cloudevent'],
    [{ ...CE, 'ce-id': '' }, '', 400, 'invalid-event'],
    [{ ...CE, 'content-type': 'application/json' }, '{nope', 400, 'invalid-event'],
    [
      { 'content-type': 'application/cloudevents+json' },
      '{"specversion":"1.0",',
      400,
      'invalid-event',
    ],
    [{ 'content-type': 'application/cloudevents+avro' }, 'x', 415, 'unsupported-media-type'],
  ];
  for (const [headers, body, status, slug] of cases) {
    const res = await fetch(s.url, { method: 'POST', headers, body });
    assert.equal(res.status, status, JSON.stringify(headers));
    assert.equal((await res.json()).type, `https://motif.dev/problems/${slug}`);
  }
  assert.equal(ran, false);
});

test('an invalid reply is a 500 saying what is wrong with it', async (t) => {
  const s = await serveEvents(() => ({ source: '/s', type: 't', subject: '' }));
  t.after(() => s.close());
  const res = await fetch(s.url, { method: 'POST', headers: CE });
  assert.equal(res.status, 500);
  assert.equal(
    (await res.json()).detail,
    'the function returned an invalid CloudEvent: attribute `subject` must not be empty',
  );
});

test('a cloudevent function takes POST / and answers the webhook preflight', async (t) => {
  const s = await serveEvents(() => undefined);
  t.after(() => s.close());
  const get = await fetch(s.url);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
  assert.equal((await fetch(`${s.url}/other`, { method: 'POST', headers: CE })).status, 404);
  const preflight = await fetch(s.url, {
    method: 'OPTIONS',
    headers: { 'webhook-request-origin': 'eventemitter.example.com' },
  });
  assert.equal(preflight.status, 200);
  assert.equal(preflight.headers.get('webhook-allowed-origin'), '*');
  assert.equal(preflight.headers.get('allow'), 'POST, OPTIONS');
});
