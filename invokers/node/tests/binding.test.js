'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const yaml = require('js-yaml');
const binding = require('../lib/events/binding');
const { encode: percentEncode } = require('../lib/events/percent');

const CE = ['ce-specversion', '1.0', 'ce-id', '1', 'ce-source', '/s', 'ce-type', 't'];
const decodeBinary = (headers, body = '', ct = undefined) =>
  binding.decode([...CE, ...headers], ct, Buffer.from(body)).records[0];
const problemOf = (f) => {
  try {
    f();
  } catch (e) {
    return e.problem();
  }
  throw new Error('no error');
};

test('the mode comes from content-type, case-insensitively, batch first', () => {
  assert.equal(binding.modeOf(undefined), 'binary');
  assert.equal(binding.modeOf('application/json'), 'binary');
  assert.equal(binding.modeOf('Application/CloudEvents+JSON; charset=utf-8'), 'structured');
  assert.equal(binding.modeOf(' application/cloudevents-batch+json'), 'batch');
});

test('binary attributes are percent-decoded, the body is the data', () => {
  const r = decodeBinary(
    ['Ce-Subject', 'Euro%20%e2%82%ac', 'ce-myext', '"quoted value"'],
    'data',
    'text/plain',
  );
  assert.deepEqual(r.attributes, {
    id: '1',
    source: '/s',
    type: 't',
    subject: 'Euro €',
    myext: 'quoted value',
    datacontenttype: 'text/plain',
  });
  assert.deepEqual(r.data, Buffer.from('data'));
  assert.equal(decodeBinary([]).data, undefined);
});

test('a request that is not a cloudevent names every missing header', () => {
  const p = problemOf(() => binding.decode(['ce-id', 'x'], 'application/json', Buffer.from('{}')));
  assert.equal(p.status, 400);
  assert.equal(p.type, 'https://motif.dev/problems/not-a-cloudevent');
  assert.deepEqual(p.extensions.missing, ['ce-source', 'ce-specversion', 'ce-type']);
});

test('binary-mode faults are 400s naming the attribute', () => {
  for (const [headers, attribute] of [
    [['ce-subject', '%C0%A0'], 'subject'],
    [['ce-datacontenttype', 'text/plain'], 'datacontenttype'],
    [['ce-my_ext', 'x'], 'my_ext'],
    [['ce-time', 'yesterday'], 'time'],
    [['ce-dataschema', '/schema.json'], 'dataschema'],
    [['ce-id', 'again'], 'id'],
  ]) {
    const p = problemOf(() => decodeBinary(headers));
    assert.equal(p.status, 400, attribute);
    assert.equal(p.extensions.attribute, attribute);
  }
  assert.equal(
    problemOf(() =>
      binding.decode([...CE.slice(0, 2), 'ce-id', '', ...CE.slice(4)], undefined, Buffer.alloc(0)),
    ).extensions.attribute,
    'id',
  );
});

test('an event format other than json is a 415', () => {
  const p = problemOf(() => binding.decode([], 'application/cloudevents+avro', Buffer.from('x')));
  assert.equal(p.status, 415);
  assert.equal(p.type, 'https://motif.dev/problems/unsupported-media-type');
});

test('binary encoding percent-encodes values and carries datacontenttype as content-type', () => {
  const { headers, body } = binding.encode(
    {
      attributes: {
        id: '1',
        source: '/s',
        type: 't',
        subject: 'Euro € 😀',
        n: 5,
        datacontenttype: 'text/plain',
      },
      data: 'hi',
    },
    'binary',
  );
  assert.deepEqual(headers, {
    'ce-specversion': '1.0',
    'ce-id': '1',
    'ce-source': '/s',
    'ce-type': 't',
    'ce-subject': 'Euro%20%E2%82%AC%20%F0%9F%98%80',
    'ce-n': '5',
    'content-type': 'text/plain',
  });
  assert.equal(body, 'hi');
});

test('an event whose data is itself a cloudevents format goes structured', () => {
  const record = {
    attributes: {
      id: '1',
      source: '/s',
      type: 't',
      datacontenttype: 'application/cloudevents+json',
    },
    data: Buffer.from('{}'),
  };
  assert.equal(binding.binaryCarries(record), false);
  assert.equal(
    binding.encode(record, 'binary').headers['content-type'],
    'application/cloudevents+json',
  );
});

/** The conformance events, as a conformant sender would send them, in both modes. */
function* conformance() {
  const dir = path.join(
    process.env.MOTIF_CONFORMANCE_DIR ?? path.join(__dirname, '../../../../shared/conformance'),
    'cloudevents-conformance/yaml',
  );
  if (!fs.existsSync(dir)) return;
  for (const file of fs.readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of yaml.loadAll(fs.readFileSync(path.join(dir, file), 'utf8'), {
      schema: yaml.FAILSAFE_SCHEMA,
    })) {
      if (!doc) continue;
      const { Extensions, ...core } = doc.ContextAttributes;
      // A YAML literal block keeps a final line break, which a String must not hold.
      const attributes = Object.fromEntries(
        Object.entries({ ...core, ...Extensions }).map(([k, v]) => [k, v.replace(/\n$/, '')]),
      );
      yield { origin: file, attributes, data: doc.Data };
    }
  }
}

test('every conformance event decodes in either mode with each attribute and byte as sent', (t) => {
  let n = 0;
  for (const { origin, attributes, data } of conformance()) {
    const { specversion, datacontenttype, ...rest } = attributes;
    const raw = Object.entries({ specversion, ...rest }).flatMap(([k, v]) => [
      `ce-${k}`,
      percentEncode(v),
    ]);
    if (specversion !== '1.0') {
      assert.throws(
        () => binding.decode(raw, datacontenttype, Buffer.from(data ?? '')),
        (e) => e.attribute === 'specversion',
        origin,
      );
      continue;
    }
    const binary = binding.decode(raw, datacontenttype, Buffer.from(data ?? '')).records[0];
    const expected = { ...rest, ...(datacontenttype === undefined ? {} : { datacontenttype }) };
    assert.deepEqual(binary.attributes, expected, origin);
    assert.equal(binary.data?.toString(), data, origin);
    const json = datacontenttype === undefined || datacontenttype.includes('json');
    const event = { ...attributes, data: json ? JSON.parse(data) : data };
    const structured = binding.decode(
      [],
      'application/cloudevents+json',
      Buffer.from(JSON.stringify(event)),
    ).records[0];
    assert.deepEqual(structured.attributes, expected, origin);
    assert.deepEqual(structured.data, event.data, origin);
    n += 1;
  }
  if (n === 0) t.skip('no conformance data (set MOTIF_CONFORMANCE_DIR)');
});
