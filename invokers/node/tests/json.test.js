'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const json = require('../lib/events/json');

const MIN = '"specversion":"1.0","id":"1","source":"/s","type":"t"';
const decode = (text) => json.fromJson(json.parseBody(Buffer.from(text)));
const record = (attributes, data) => ({
  attributes: { id: '1', source: '/s', type: 't', ...attributes },
  data,
});

test('a json string is data as it stands', () => {
  assert.equal(decode(`{${MIN},"data":"I'm just a string"}`).data, "I'm just a string");
  const e = decode(`{${MIN},"datacontenttype":"application/json","data":"{\\"a\\":1}"}`);
  assert.equal(e.data, '{"a":1}');
});

test('null attributes are unset and null data is kept for json', () => {
  const e = decode(`{${MIN},"subject":null,"myext":null,"data":null}`);
  assert.deepEqual(e.attributes, { id: '1', source: '/s', type: 't' });
  assert.equal(e.data, null);
  assert.equal(decode(`{${MIN},"datacontenttype":"text/plain","data":null}`).data, undefined);
});

test('data and data_base64 together are refused', () => {
  assert.throws(() => decode(`{${MIN},"data":1,"data_base64":"AQ=="}`), /mutually exclusive/);
});

test('data_base64 must be base64', () => {
  assert.deepEqual(decode(`{${MIN},"data_base64":"AAEC/w=="}`).data, Buffer.from([0, 1, 2, 255]));
  assert.throws(() => decode(`{${MIN},"data_base64":"not base64!"}`), /not valid base64/);
});

test('extensions keep their json types within the type system', () => {
  const e = decode(`{${MIN},"b":true,"i":-5,"s":"x"}`);
  assert.deepEqual(e.attributes, { id: '1', source: '/s', type: 't', b: true, i: -5, s: 'x' });
  for (const bad of ['"i":3000000000', '"i":1.5', '"o":{}', '"a":[]']) {
    assert.throws(
      () => decode(`{${MIN},${bad}}`),
      (err) => err.attribute === bad.slice(1, 2),
      bad,
    );
  }
});

test('core attributes must be strings', () => {
  assert.throws(
    () => decode('{"specversion":"1.0","id":1,"source":"/s","type":"t"}'),
    (e) => e.attribute === 'id',
  );
});

test('a missing or unsupported specversion names it', () => {
  assert.throws(
    () => decode('{"id":"1","source":"/s","type":"t"}'),
    (e) => e.attribute === 'specversion',
  );
  assert.throws(
    () => decode('{"specversion":"0.3","id":"1","source":"/s","type":"t"}'),
    /speaks CloudEvents 1.0/,
  );
});

test('missing required attributes are named', () => {
  assert.throws(
    () => decode('{"specversion":"1.0","source":"/s"}'),
    (e) => e.attribute === 'id',
  );
});

test('what is not a json event object is refused as such', () => {
  for (const bad of ['[]', '"x"', '{"specversion":', '\xff']) {
    assert.throws(() => decode(bad), /not a valid JSON event/, bad);
  }
});

test('non-string data needs a json content type', () => {
  assert.throws(
    () => decode(`{${MIN},"datacontenttype":"text/plain","data":{}}`),
    /must be a JSON string/,
  );
});

test('bytes are written as data_base64, text as a string, json verbatim', () => {
  const out = (r) => JSON.parse(json.toJson(r));
  assert.equal(
    out(record({ datacontenttype: 'application/octet-stream' }, Buffer.from([0, 1]))).data_base64,
    'AAE=',
  );
  assert.equal(
    out(record({ datacontenttype: 'application/xml' }, Buffer.from('<much wow="xml"/>'))).data,
    '<much wow="xml"/>',
  );
  assert.equal(
    json.toJson(record({ datacontenttype: 'application/json' }, Buffer.from('{"a" : 1}'))),
    `{${MIN},"datacontenttype":"application/json","data":{"a" : 1}}`,
  );
  assert.equal(
    out(record({ datacontenttype: 'application/json' }, Buffer.from('not json'))).data_base64,
    'bm90IGpzb24=',
  );
  assert.equal(out(record({ datacontenttype: 'text/json' }, Buffer.from('d'))).data_base64, 'ZA==');
  assert.deepEqual(out(record({}, { a: [1, 2] })).data, { a: [1, 2] });
});

test('a string is a json value under a json type and text under a textual one', () => {
  assert.equal(json.toJson(record({}, 'hi')), `{${MIN},"data":"hi"}`);
  assert.equal(json.dataBody(record({}, 'hi')).body, '"hi"');
  assert.equal(json.dataBody(record({ datacontenttype: 'text/plain' }, 'hi')).body, 'hi');
  assert.throws(
    () => json.dataBody(record({ datacontenttype: 'text/plain' }, { a: 1 })),
    /must be a string or bytes/,
  );
});

test('every data written is read back the same', () => {
  for (const r of [
    record({ datacontenttype: 'application/octet-stream' }, Buffer.from([0, 1, 255])),
    record({ datacontenttype: 'text/plain; charset=utf-8' }, 'Euro € 😀'),
    record({ datacontenttype: 'application/json' }, { a: [1, null, 'x'] }),
    record({ ext: 7, flag: false }, 42),
  ]) {
    const back = decode(json.toJson(r));
    assert.deepEqual(back.attributes, r.attributes);
    assert.deepEqual(back.data, r.data);
  }
});

test('batches are arrays of events', () => {
  assert.deepEqual(json.batchFromJson([]), []);
  assert.equal(json.batchFromJson(JSON.parse(`[{${MIN}},{${MIN}}]`)).length, 2);
  assert.throws(() => json.batchFromJson({}), /JSON array/);
  assert.throws(() => json.batchFromJson(JSON.parse(`[{${MIN}},{"id":"x"}]`)));
  assert.equal(json.batchToJson([record({}, undefined)]), `[{${MIN}}]`);
});
