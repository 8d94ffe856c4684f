'use strict';
// The handler's tests: `npm test` (node --test) runs them, with no server.
const assert = require('node:assert/strict');
const { test } = require('node:test');

const { handle } = require('./index.js');

const GREETING = 'hello';

/** A request as the invoker passes it to `handle`. */
function request(body = '', method = 'POST') {
  const bytes = Buffer.from(body);
  return {
    method,
    path: '/',
    query: '',
    headers: { 'content-type': 'text/plain' },
    body: bytes,
    text: () => bytes.toString('utf8'),
    json: () => JSON.parse(bytes.toString('utf8')),
  };
}

/** A context whose logger keeps quiet. */
const context = {
  functionName: 'hello-js',
  log: { info() {}, warn() {}, error() {} },
};

test('greets the name in the body', () => {
  assert.equal(handle(request(' motif\n'), context), `${GREETING}, motif!\n`);
});

test('greets the world without a body', () => {
  assert.equal(handle(request('', 'GET'), context), `${GREETING}, world!\n`);
});
