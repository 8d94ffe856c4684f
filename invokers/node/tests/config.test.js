'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { fromEnv } = require('../lib/config');

test('defaults follow the contract', () => {
  const c = fromEnv({});
  assert.equal(c.port, 8080);
  assert.equal(c.host, undefined);
  assert.equal(c.kind, 'http');
  assert.equal(c.timeoutSeconds, 60);
  assert.equal(c.concurrency, 0);
  assert.equal(c.maxBody, 6 * 1024 * 1024);
  assert.equal(c.drainSeconds, 30);
  assert.equal(c.jsonLogs, false);
  assert.equal(c.name, 'function');
});

test('knative names are read but not required', () => {
  const c = fromEnv({ K_SERVICE: 'hello', K_REVISION: 'hello-00001' });
  assert.equal(c.name, 'hello');
  assert.equal(c.knative.revision, 'hello-00001');
  assert.equal(c.knative.configuration, undefined);
  assert.equal(fromEnv({ K_SERVICE: 'hello', MOTIF_FUNCTION_NAME: 'fn' }).name, 'fn');
});

test('bad values name the variable', () => {
  for (const [name, value] of [
    ['MOTIF_TIMEOUT', 'soon'],
    ['MOTIF_TIMEOUT', '0'],
    ['MOTIF_TIMEOUT', '1.5'],
    ['PORT', '70000'],
    ['MOTIF_FUNCTION_KIND', 'grpc'],
    ['MOTIF_HOST', 'localhost'],
    ['MOTIF_MAX_BODY', '-1'],
  ]) {
    assert.throws(
      () => fromEnv({ [name]: value }),
      (e) => e.variable === name && e.message.includes(value),
      name,
    );
  }
});

test('the queue defaults to ten per slot', () => {
  assert.equal(fromEnv({ MOTIF_CONCURRENCY: '4' }).queue, 40);
  assert.equal(fromEnv({ MOTIF_CONCURRENCY: '4', MOTIF_QUEUE: '0' }).queue, 0);
});

test('json logs are asked for case-insensitively', () => {
  assert.equal(fromEnv({ MOTIF_LOG: 'JSON' }).jsonLogs, true);
});
