'use strict';
// The http kind over a real socket: the request a handler sees, the responses it may
// return, and its failures.
const test = require('node:test');
const assert = require('node:assert/strict');
const { setTimeout: sleep } = require('node:timers/promises');
const { request, serve } = require('./helpers');

test('the handler sees method, path, raw query, every header value and the body', async (t) => {
  let seen;
  const s = await serve((request) => {
    seen = request;
    return 'ok';
  });
  t.after(() => s.close());
  const headers = [
    'X-Many',
    'a',
    'x-many',
    'b',
    'Connection',
    'x-hop',
    'x-hop',
    'secret',
    'Content-Type',
    'text/plain',
  ];
  const res = await request(`${s.url}/orders/42?expand=all&x=1`, {
    method: 'PUT',
    headers,
    body: '{"a":1}',
  });
  assert.equal(res.status, 200);
  assert.equal(seen.method, 'PUT');
  assert.equal(seen.path, '/orders/42');
  assert.equal(seen.query, 'expand=all&x=1');
  assert.deepEqual(seen.headers['x-many'], ['a', 'b']);
  assert.equal(seen.headers['x-hop'], undefined);
  assert.equal(seen.headers.connection, undefined);
  assert.equal(seen.headers['content-type'], 'text/plain');
  assert.equal(seen.text(), '{"a":1}');
  assert.deepEqual(seen.json(), { a: 1 });
});

test('a body without content-type is said to be application/octet-stream', async (t) => {
  let type;
  const s = await serve((request) => {
    type = request.headers['content-type'];
  });
  t.after(() => s.close());
  await fetch(s.url, { method: 'POST', body: new Uint8Array([1, 2]) });
  assert.equal(type, 'application/octet-stream');
});

test('a body alone gets a status and content type from what it is', async (t) => {
  const bodies = {
    text: 'hi',
    bytes: Buffer.from([1, 2]),
    object: { a: [1] },
    nothing: undefined,
    number: 7,
  };
  const s = await serve((request) => bodies[request.path.slice(1)]);
  t.after(() => s.close());
  const get = async (name) => {
    const res = await fetch(`${s.url}/${name}`);
    return [
      res.status,
      res.headers.get('content-type'),
      Buffer.from(await res.arrayBuffer()).toString('hex'),
    ];
  };
  assert.deepEqual(await get('text'), [
    200,
    'text/plain; charset=utf-8',
    Buffer.from('hi').toString('hex'),
  ]);
  assert.deepEqual(await get('bytes'), [200, 'application/octet-stream', '0102']);
  assert.deepEqual(await get('object'), [
    200,
    'application/json',
    Buffer.from('{"a":[1]}').toString('hex'),
  ]);
  assert.deepEqual(await get('nothing'), [204, null, '']);
  assert.deepEqual(await get('number'), [
    200,
    'application/json',
    Buffer.from('7').toString('hex'),
  ]);
});

test('a response object sets status and headers; hop-by-hop headers are dropped', async (t) => {
  const s = await serve(() => ({
    status: 201,
    headers: {
      'Content-Type': 'text/csv',
      'x-many': ['a', 'b'],
      connection: 'close',
      'content-length': '999',
    },
    body: 'a,b',
  }));
  t.after(() => s.close());
  const res = await fetch(s.url);
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('content-type'), 'text/csv');
  assert.equal(res.headers.get('x-many'), 'a, b');
  assert.equal(res.headers.get('content-length'), '3');
  assert.equal(await res.text(), 'a,b');
});

test('an object with other members than status, headers and body is a json body', async (t) => {
  const s = await serve(() => ({ status: 'ok', count: 2 }));
  t.after(() => s.close());
  const res = await fetch(s.url);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok', count: 2 });
});

test('a thrown error is a 500 problem with its message and no stack; the stack is logged', async (t) => {
  const s = await serve(async () => {
    await sleep(1);
    throw new Error('boom');
  });
  t.after(() => s.close());
  const res = await fetch(s.url, {
    headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  });
  assert.equal(res.status, 500);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  const problem = await res.json();
  assert.deepEqual(problem, {
    type: 'https://motif.dev/problems/handler-failed',
    title: 'Function failed',
    status: 500,
    detail: 'boom',
  });
  const log = s.logs.join('');
  assert.match(log, /trace_id=4bf92f3577b34da6a3ce929d0e0e4736/);
  assert.match(log, /at .*http\.test\.js/);
});

test('an error with a status of 400-599 keeps it', async (t) => {
  const s = await serve((request) => {
    if (request.path === '/json') return request.json();
    const e = new Error('no such order');
    e.statusCode = request.path === '/teapot' ? 418 : 404;
    throw e;
  });
  t.after(() => s.close());
  const notFound = await fetch(s.url);
  assert.equal(notFound.status, 404);
  assert.equal((await notFound.json()).type, 'https://motif.dev/problems/not-found');
  const teapot = await fetch(`${s.url}/teapot`);
  assert.deepEqual(
    [teapot.status, (await teapot.json()).type],
    [418, 'https://motif.dev/problems/function-error'],
  );
  const json = await fetch(`${s.url}/json`, { method: 'POST', body: '{nope' });
  assert.equal(json.status, 400);
  assert.match((await json.json()).detail, /not valid JSON/);
});

test('a response that cannot be sent is a 500 saying why', async (t) => {
  const s = await serve((request) =>
    request.path === '/status' ? { status: 99 } : { headers: { 'bad header': 'x' }, body: '' },
  );
  t.after(() => s.close());
  for (const [path, why] of [
    ['/status', /status `99`/],
    ['/header', /header `bad header`/],
  ]) {
    const res = await fetch(`${s.url}${path}`);
    assert.equal(res.status, 500);
    assert.match((await res.json()).detail, why);
  }
});

test('a success of a type accept excludes is a 406; errors pass as they are', async (t) => {
  const s = await serve((request) => {
    if (request.path === '/fail') throw new Error('boom');
    return 'text';
  });
  t.after(() => s.close());
  assert.equal((await fetch(s.url, { headers: { accept: 'application/json' } })).status, 406);
  assert.equal(
    (await fetch(s.url, { headers: { accept: 'application/json;q=0.9, text/*' } })).status,
    200,
  );
  assert.equal((await fetch(`${s.url}/fail`, { headers: { accept: 'text/html' } })).status, 500);
});

test('the context carries the names, the deadline and the trace of the request', async (t) => {
  let context;
  const s = await serve(
    (_request, cx) => {
      context = cx;
    },
    { MOTIF_FUNCTION_NAME: 'fn', K_SERVICE: 'svc', K_REVISION: 'svc-00001', MOTIF_TIMEOUT: '5' },
  );
  t.after(() => s.close());
  const before = Date.now();
  await fetch(s.url, {
    headers: {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'a=b',
    },
  });
  assert.equal(context.functionName, 'fn');
  assert.equal(context.service, 'svc');
  assert.equal(context.revision, 'svc-00001');
  assert.equal(context.configuration, undefined);
  assert.ok(context.deadline >= before + 5000 && context.deadline <= Date.now() + 5000);
  assert.match(
    context.traceparent,
    /^00-0af7651916cd43dd8448eb211c80319c-(?!b7ad6b7169203331)[0-9a-f]{16}-01$/,
  );
  assert.equal(context.tracestate, 'a=b');
});

test('context.log writes lines carrying the trace id', async (t) => {
  const s = await serve(
    (_request, cx) => {
      cx.log.info('handled', { order: 42 });
    },
    { MOTIF_LOG: 'json', K_REVISION: 'r-1' },
  );
  t.after(() => s.close());
  await fetch(s.url, {
    headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  });
  const line = JSON.parse(s.logs.find((l) => l.includes('handled')));
  assert.equal(line.level, 'INFO');
  assert.equal(line.message, 'handled');
  assert.equal(line.order, 42);
  assert.equal(line.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
});

test('h2c with prior knowledge is served on the same port', async (t) => {
  const http2 = require('node:http2');
  const s = await serve((request) => request.body);
  t.after(() => s.close());
  const session = http2.connect(s.url);
  t.after(() => session.close());
  const stream = session.request({ ':method': 'POST', ':path': '/' });
  stream.end('over h2c');
  const [headers] = await Promise.all([new Promise((r) => stream.on('response', r))]);
  let body = '';
  for await (const chunk of stream) body += chunk;
  assert.equal(headers[':status'], 200);
  assert.equal(body, 'over h2c');
});
