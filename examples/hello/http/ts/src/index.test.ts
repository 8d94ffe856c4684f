// The handler's tests: `npm test` compiles them and runs them with node:test, with no
// server.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { type Context, type Request, handle } from './index';

const GREETING = 'hello';

/** A request as the invoker passes it to `handle`. */
function request(body = '', method = 'POST'): Request {
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
const context: Context = {
  functionName: 'hello-ts',
  deadline: Date.now() + 60_000,
  log: { info() {}, warn() {}, error() {} },
};

test('greets the name in the body', () => {
  assert.equal(handle(request(' motif\n'), context), `${GREETING}, motif!\n`);
});

test('greets the world without a body', () => {
  assert.equal(handle(request('', 'GET'), context), `${GREETING}, world!\n`);
});
