'use strict';
// MOTIF_MAX_BODY, MOTIF_TIMEOUT, MOTIF_CONCURRENCY and MOTIF_QUEUE over a real socket.
const test = require('node:test');
const assert = require('node:assert/strict');
const { setTimeout: sleep } = require('node:timers/promises');
const { raw, serve } = require('./helpers');

const post = (length, extra = '') =>
  `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n${extra}\r\n`;

test('a body over the limit is read to its end before the 413, so the client sees it', async (t) => {
  const s = await serve((request) => request.body, { MOTIF_MAX_BODY: '1024' });
  t.after(() => s.close());
  // Answered and closed early, with the body still coming, the connection would be
  // reset under a client that writes its whole request before it reads (Python's
  // http.client gets a broken pipe instead of the 413).
  const { answer, partsBeforeAnswer } = await raw(s.port, [
    post(65536) + 'x'.repeat(2048),
    'x'.repeat(65536 - 2048),
  ]);
  assert.equal(partsBeforeAnswer, 2);
  assert.match(answer, /^HTTP\/1\.1 413 /);
  assert.match(answer, /"limit":1024/);
  assert.match(answer, /connection: close/i);
});

test('a body at the limit is served', async (t) => {
  const s = await serve((request) => request.body, { MOTIF_MAX_BODY: '1024' });
  t.after(() => s.close());
  const res = await fetch(s.url, { method: 'POST', body: 'x'.repeat(1024) });
  assert.equal(res.status, 200);
  assert.equal((await res.text()).length, 1024);
});

test('a chunked body that grows over the limit is a 413', async (t) => {
  const s = await serve((request) => request.body, { MOTIF_MAX_BODY: '10' });
  t.after(() => s.close());
  const chunked =
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n';
  assert.match((await raw(s.port, [chunked])).answer, /^HTTP\/1\.1 413 /);
});

test('a body announced over the limit with expect: 100-continue is refused before it is sent', async (t) => {
  const s = await serve((request) => request.body, { MOTIF_MAX_BODY: '1024' });
  t.after(() => s.close());
  const { answer } = await raw(s.port, [post(4096, 'Expect: 100-continue\r\n')]);
  assert.match(answer, /^HTTP\/1\.1 413 /);
  assert.doesNotMatch(answer, /100 Continue/);
});

test('a handler past the timeout is a 504 problem and the server serves on', async (t) => {
  const s = await serve(
    async (request) => {
      // Unreferenced: the test process need not wait for it to end.
      if (request.path === '/hang') await sleep(60_000, undefined, { ref: false });
      return 'fine';
    },
    { MOTIF_TIMEOUT: '1' },
  );
  t.after(() => s.close());
  const started = Date.now();
  const res = await fetch(`${s.url}/hang`);
  assert.equal(res.status, 504);
  assert.ok(Date.now() - started < 3000);
  const text = await res.text();
  assert.match(text, /"type":"https:\/\/motif.dev\/problems\/timeout"/);
  assert.match(text, /"timeoutSeconds":1\.0\}/);
  assert.equal(await (await fetch(s.url)).text(), 'fine');
});

test('over the concurrency limit and a full queue is a 429 with retry-after', async (t) => {
  const s = await serve(() => sleep(300, 'done'), { MOTIF_CONCURRENCY: '1', MOTIF_QUEUE: '1' });
  t.after(() => s.close());
  const answers = await Promise.all([1, 2, 3].map(() => fetch(s.url)));
  const statuses = answers.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 200, 429]);
  const refused = answers.find((r) => r.status === 429);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.equal((await refused.json()).type, 'https://motif.dev/problems/too-many-requests');
});

test('the metrics show requests waiting in line', async (t) => {
  const s = await serve(() => sleep(300, 'done'), { MOTIF_CONCURRENCY: '1' });
  t.after(() => s.close());
  const calls = [fetch(s.url), fetch(s.url)];
  await sleep(100);
  const metrics = await (await fetch(`${s.url}/_/metrics`)).text();
  assert.match(metrics, /^motif_requests_queued 1$/m);
  assert.match(metrics, /^motif_requests_in_flight 2$/m);
  await Promise.all(calls);
});

test('a request the http parser refuses is a problem too, and the server serves on', async (t) => {
  const s = await serve(() => 'fine');
  t.after(() => s.close());
  const malformed = await raw(s.port, ['GARBAGE / HTTP/1.1\r\n\r\n']);
  assert.match(malformed.answer, /^HTTP\/1\.1 400 /);
  assert.match(malformed.answer, /"type":"https:\/\/motif.dev\/problems\/bad-request"/);
  const huge = await raw(s.port, [
    `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
  ]);
  assert.match(huge.answer, /^HTTP\/1\.1 431 /);
  assert.match(huge.answer, /application\/problem\+json/);
  assert.equal(await (await fetch(s.url)).text(), 'fine');
});
