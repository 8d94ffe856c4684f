'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { TraceContext } = require('../lib/trace');

const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

test('a valid traceparent is continued with a new span', () => {
  const t = new TraceContext(PARENT, 'congo=t61rcWkgMzE');
  assert.equal(t.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(t.parentId, 'b7ad6b7169203331');
  assert.notEqual(t.spanId, 'b7ad6b7169203331');
  assert.match(t.traceparent, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
  assert.equal(t.tracestate, 'congo=t61rcWkgMzE');
});

test('the ids of a trace are generated once', () => {
  const t = new TraceContext(undefined, undefined);
  assert.equal(t.traceparent, t.traceparent);
  assert.match(t.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
});

test('an invalid traceparent starts a new trace without its tracestate', () => {
  for (const bad of [
    '',
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331',
    '00-00000000000000000000000000000000-b7ad6b7169203331-01',
    '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
    'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra',
  ]) {
    const t = new TraceContext(bad, 'a=b');
    assert.equal(t.parentId, undefined, bad);
    assert.notEqual(t.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(t.tracestate, undefined);
  }
});

test('later versions are read forward-compatibly', () => {
  const t = new TraceContext(
    '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-ever',
    undefined,
  );
  assert.equal(t.parentId, 'b7ad6b7169203331');
});
