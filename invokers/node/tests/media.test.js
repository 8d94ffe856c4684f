'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Accept, isJson, isTextual } = require('../lib/media');

test('json and text types are classified', () => {
  for (const json of [
    'application/json',
    'Application/JSON; charset=utf-8',
    'text/json',
    'application/vnd.x+json',
  ]) {
    assert.ok(isJson(json), json);
  }
  for (const not of ['text/plain', 'application/octet-stream', 'json', 'application/jsonx']) {
    assert.ok(!isJson(not), not);
  }
  for (const text of ['text/plain; charset=us-ascii', 'application/xml', 'image/svg+xml']) {
    assert.ok(isTextual(text), text);
  }
  assert.ok(!isTextual('application/octet-stream'));
});

test('the most specific accept range decides', () => {
  const a = Accept.parse('text/*;q=0.5, text/plain, */*;q=0.1, image/png;q=0');
  assert.equal(a.quality('text/plain'), 1);
  assert.equal(a.quality('text/html'), 0.5);
  assert.equal(a.quality('application/json'), 0.1);
  assert.ok(!a.allows('image/png'));
});

test('a missing or garbled accept header accepts anything', () => {
  assert.ok(Accept.parse(undefined).allows('application/x-anything'));
  assert.ok(Accept.parse('garbage').allows('text/plain'));
  assert.ok(Accept.parse('').allows('text/plain'));
  assert.ok(Accept.parse('text/plain;q=2').allows('image/png'));
});

test('names ignores wildcards', () => {
  const a = Accept.parse('*/*, application/cloudevents-batch+json');
  assert.ok(a.names('application/cloudevents-batch+json'));
  assert.ok(!Accept.parse(undefined).names('application/cloudevents-batch+json'));
  assert.ok(!a.names('application/cloudevents+json'));
});
