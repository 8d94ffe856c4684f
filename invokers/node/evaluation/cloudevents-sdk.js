'use strict';
/**
 * The evidence behind EVALUATION.md: the `cloudevents` SDK (as installed here) against
 * the MUST rules of CloudEvents 1.0.2 and its HTTP binding, and against the conformance
 * events of cloudevents/conformance, with the invoker's own decoding beside it.
 *
 *     node evaluation/cloudevents-sdk.js   (from invokers/node, after npm ci)
 *
 * Prints markdown tables. The conformance data is read from MOTIF_CONFORMANCE_DIR, else
 * ../shared/conformance beside the repository.
 */

const fs = require('node:fs');
const path = require('node:path');
const yaml = require('js-yaml');
const { CloudEvent, HTTP } = require('cloudevents');
const binding = require('../lib/events/binding');
const { EventBridge } = require('../lib/events/sdk');
const percent = require('../lib/events/percent');

const CE = { 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': '/s', 'ce-type': 't' };
const STRUCTURED = { 'content-type': 'application/cloudevents+json' };
const MIN = '"specversion":"1.0","id":"1","source":"/s","type":"t"';

/** What `f` gives, or what it throws, as one short line. */
function observe(f) {
  try {
    const v = f();
    return typeof v === 'string' ? JSON.stringify(v) : describe(v);
  } catch (e) {
    return `throws ${e.constructor.name}: ${e.message.split('\n')[0]}`;
  }
}

function describe(v) {
  if (ArrayBuffer.isView(v)) return `${v.constructor.name} [${Array.from(v).join(',')}]`;
  if (v instanceof CloudEvent) {
    return `CloudEvent ${JSON.stringify({ ...v, data: describe(v.data) })}`;
  }
  return JSON.stringify(v) ?? String(v);
}

const decode = (headers, body = '') => HTTP.toEvent({ headers, body });

const THROWS = /^throws/;
/** @param {string} text */
const exactly = (text) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

/**
 * Each row of the rules table: id, rule, what the rule wants, the test of what the SDK
 * does (as {@link observe} writes it), and how the SDK is called.
 */
const RULES = [
  [
    '1a',
    'binary: `ce-` values percent-decoded (`a%20b`)',
    '"a b"',
    exactly('"a b"'),
    () => decode({ ...CE, 'ce-subject': 'a%20b' }).subject,
  ],
  [
    '1b',
    'binary: lower-case hex decoded (`%e2%82%ac`)',
    '"€"',
    exactly('"€"'),
    () => decode({ ...CE, 'ce-subject': '%e2%82%ac' }).subject,
  ],
  [
    '1c',
    'binary: overlong UTF-8 (`%C0%A0`) refused',
    'throws',
    THROWS,
    () => decode({ ...CE, 'ce-subject': '%C0%A0' }).subject,
  ],
  [
    '1d',
    'binary: a quoted-string unquoted (`"a\\"b"`)',
    '`a"b`',
    exactly('"a\\"b"'),
    () => decode({ ...CE, 'ce-subject': '"a\\"b"' }).subject,
  ],
  [
    '1e',
    'binary: `ce-datacontenttype` refused',
    'throws',
    THROWS,
    () => decode({ ...CE, 'ce-datacontenttype': 'text/plain' }, 'x').datacontenttype,
  ],
  [
    '1f',
    'binary: a request lacking `ce-source`, `ce-specversion`, `ce-type` refused, naming them',
    'throws, naming them',
    /^throws.*ce-source/,
    () => decode({ 'ce-id': 'x', 'content-type': 'application/json' }, '{}'),
  ],
  [
    '1g',
    'binary: an empty `ce-id` refused, naming `id`',
    'throws, naming id',
    /^throws.*\bid\b/,
    () => decode({ ...CE, 'ce-id': '' }),
  ],
  [
    '1h',
    'specversion other than 1.0 refused (`0.3`)',
    'throws',
    THROWS,
    () => decode({ ...CE, 'ce-specversion': '0.3' }).specversion,
  ],
  [
    '1i',
    'attribute names `[a-z0-9]` (`ce-my_ext`)',
    'throws',
    THROWS,
    () => Object.keys(decode({ ...CE, 'ce-my_ext': 'x' })).includes('my_ext'),
  ],
  [
    '1j',
    '`time` RFC 3339 (`yesterday`)',
    'throws',
    THROWS,
    () => decode({ ...CE, 'ce-time': 'yesterday' }).time,
  ],
  [
    '1k',
    '`time` kept as sent (`+02:00`)',
    'as sent',
    exactly('"2018-04-05T17:31:00+02:00"'),
    () => decode({ ...CE, 'ce-time': '2018-04-05T17:31:00+02:00' }).time,
  ],
  [
    '1l',
    'an event without `time` has none',
    'undefined',
    exactly('undefined'),
    () => decode({ ...CE }).time,
  ],
  [
    '1m',
    '`dataschema` an absolute URI (`/schema.json`)',
    'throws',
    THROWS,
    () => decode({ ...CE, 'ce-dataschema': '/schema.json' }).dataschema,
  ],
  [
    '1n',
    'String values without control characters (`\\u0001`)',
    'throws',
    THROWS,
    () => decode(STRUCTURED, `{${MIN},"subject":"a\\u0001"}`).subject,
  ],
  [
    '1o',
    'Integer extensions within int32 (3000000000)',
    'throws',
    THROWS,
    () => decode(STRUCTURED, `{${MIN},"i":3000000000}`).i,
  ],
  [
    '1p',
    'extension values of the type system only (an object)',
    'throws',
    THROWS,
    () => decode(STRUCTURED, `{${MIN},"o":{"a":1}}`).o,
  ],
  [
    '1q',
    'mode by Content-Type, case-insensitively (`Application/CloudEvents+JSON`)',
    'the event',
    exactly('"1"'),
    () => decode({ 'content-type': 'Application/CloudEvents+JSON' }, `{${MIN}}`).id,
  ],
  [
    '1r',
    'structured: `ce-` headers ignored',
    "the body's id",
    exactly('"1"'),
    () => decode({ ...STRUCTURED, 'ce-id': 'hdr' }, `{${MIN}}`).id,
  ],
  [
    '1s',
    'structured: `data` and `data_base64` together refused',
    'throws',
    THROWS,
    () => decode(STRUCTURED, `{${MIN},"data":1,"data_base64":"AQ=="}`).data,
  ],
  [
    '1t',
    'structured: `data_base64` decoded to its bytes (`AAEC/w==`)',
    'bytes 0,1,2,255',
    /^(Buffer|Uint8Array) \[0,1,2,255\]$/,
    () => decode(STRUCTURED, `{${MIN},"data_base64":"AAEC/w=="}`).data,
  ],
  [
    '1u',
    'an event format other than JSON (`application/cloudevents+avro`) told apart (a 415)',
    'throws, saying so',
    /^throws.*(support|format)/i,
    () => decode({ 'content-type': 'application/cloudevents+avro' }, 'x'),
  ],
  [
    '1v',
    'batch: every event validated (an empty `id`)',
    'throws',
    THROWS,
    () =>
      decode(
        { 'content-type': 'application/cloudevents-batch+json' },
        `[{"specversion":"1.0","id":"","source":"/s","type":"t"}]`,
      )[0].id,
  ],
  [
    '1w',
    'binary: a body of a `+json` type parsed as `application/json` is',
    'an object',
    exactly('"object"'),
    () => typeof decode({ ...CE, 'content-type': 'application/vnd.x+json' }, '{"a":1}').data,
  ],
  [
    '2a',
    'binary: values percent-encoded (`Euro € 😀`)',
    'percent-encoded',
    exactly('"Euro%20%E2%82%AC%20%F0%9F%98%80"'),
    () =>
      HTTP.binary(new CloudEvent({ source: '/s', type: 't', subject: 'Euro € 😀' })).headers[
        'ce-subject'
      ],
  ],
  [
    '2b',
    'binary: bytes without datacontenttype get no JSON Content-Type',
    'none',
    exactly('undefined'),
    () =>
      HTTP.binary(new CloudEvent({ source: '/s', type: 't', data: Buffer.from([0, 1]) })).headers[
        'content-type'
      ],
  ],
  [
    '2c',
    '`time` written as the event holds it (`+02:00`)',
    'as held',
    exactly('"2018-04-05T17:31:00+02:00"'),
    () =>
      HTTP.binary(new CloudEvent({ source: '/s', type: 't', time: '2018-04-05T17:31:00+02:00' }))
        .headers['ce-time'],
  ],
  [
    '2d',
    'structured: bytes as `data_base64`',
    '"AAE="',
    exactly('"AAE="'),
    () =>
      JSON.parse(
        HTTP.structured(new CloudEvent({ source: '/s', type: 't', data: Buffer.from([0, 1]) }))
          .body,
      ).data_base64,
  ],
  [
    '3a',
    '`new CloudEvent`: an empty `id` refused',
    'throws',
    THROWS,
    () => new CloudEvent({ id: '', source: '/s', type: 't' }).id,
  ],
  [
    '3b',
    '`new CloudEvent`: control characters refused',
    'throws',
    THROWS,
    () => new CloudEvent({ source: '/s', type: 't', subject: 'a\u0001' }).subject,
  ],
  [
    '3c',
    '`new CloudEvent`: int32 extensions only',
    'throws',
    THROWS,
    () => new CloudEvent({ source: '/s', type: 't', i: 3000000000 }).i,
  ],
  [
    '3d',
    '`new CloudEvent`: `time` RFC 3339 (a space for `T`)',
    'throws',
    THROWS,
    () => new CloudEvent({ source: '/s', type: 't', time: '2018-04-05 17:31:00Z' }).time,
  ],
  [
    '3e',
    '`new CloudEvent`: `time` RFC 3339 (`yesterday`)',
    'throws',
    THROWS,
    () => new CloudEvent({ source: '/s', type: 't', time: 'yesterday' }).time,
  ],
  [
    '3f',
    '`new CloudEvent`: `source` a URI-reference (`a b c`)',
    'throws',
    THROWS,
    () => new CloudEvent({ source: 'a b c', type: 't' }).source,
  ],
  [
    '3g',
    '`new CloudEvent`: `dataschema` absolute (`/x`)',
    'throws',
    THROWS,
    () => new CloudEvent({ source: '/s', type: 't', dataschema: '/x' }).dataschema,
  ],
  [
    '3h',
    '`new CloudEvent`: attribute names `[a-z0-9]` (`my_ext`)',
    'throws',
    THROWS,
    () => new CloudEvent({ source: '/s', type: 't', my_ext: 'x' }),
  ],
  [
    '3i',
    '`new CloudEvent`: specversion 1.0 only',
    'throws',
    THROWS,
    () => new CloudEvent({ source: '/s', type: 't', specversion: '0.3' }).specversion,
  ],
  [
    '3j',
    'an event without `time` writes itself as JSON',
    'JSON',
    /^"\{/,
    () =>
      JSON.stringify(
        Object.assign(Object.create(CloudEvent.prototype), {
          specversion: '1.0',
          id: '1',
          source: '/s',
          type: 't',
        }),
      ),
  ],
];

function rulesTable() {
  let passed = 0;
  console.log('| # | Rule | Wanted | The SDK | Result |');
  console.log('|---|---|---|---|---|');
  for (const [id, rule, wanted, test, f] of RULES) {
    const seen = observe(f);
    const pass = test.test(seen);
    passed += pass ? 1 : 0;
    console.log(
      `| ${id} | ${rule} | ${wanted} | ${seen.replaceAll('|', '\\|')} | ${pass ? 'PASS' : '**FAIL**'} |`,
    );
  }
  console.log(`\nPassed: ${passed} of ${RULES.length}.`);
}

/** The conformance events: every YAML document under the data's yaml/ and pkg/diff/testdata/. */
function conformanceEvents(dir) {
  const files = [];
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.yaml')) files.push(p);
    }
  };
  walk(dir);
  return files.sort().flatMap((file) =>
    yaml
      .loadAll(fs.readFileSync(file, 'utf8'), { schema: yaml.FAILSAFE_SCHEMA })
      .filter(Boolean)
      .map((doc, i) => ({ origin: `${path.relative(dir, file)}#${i}`, doc })),
  );
}

/** The attributes a conformance document holds, as written (the YAML read as strings). */
function attributesOf(doc) {
  const { Extensions, ...core } = doc.ContextAttributes ?? {};
  return { ...core, ...Extensions };
}

/** The request a conformant sender makes of `attributes` and `data` in `mode`. */
function request(mode, attributes, data) {
  const ct = attributes.datacontenttype;
  if (mode === 'binary') {
    const headers = {};
    for (const [k, v] of Object.entries(attributes)) {
      if (k === 'datacontenttype') headers['content-type'] = v;
      else headers[`ce-${k}`] = percent.encode(v);
    }
    return { headers, body: data ?? '' };
  }
  const event = { ...attributes };
  if (data !== undefined) {
    event.data = ct === undefined || /json/i.test(ct) ? JSON.parse(data) : data;
  }
  return { headers: STRUCTURED, body: JSON.stringify(event) };
}

/**
 * Why a decoded event does not hold exactly `attributes` and `data`, if it does not. Data
 * of a JSON type is compared as JSON; without a type it is JSON in structured mode and
 * bytes in binary mode (no Content-Type means application/octet-stream, CONTRACT.md §4).
 */
function mismatch(event, mode, attributes, data) {
  const faults = [];
  for (const [k, v] of Object.entries(attributes)) {
    if (String(event[k]) !== v) faults.push(`${k} ${JSON.stringify(event[k])}`);
  }
  if (event.time !== undefined && attributes.time === undefined) faults.push('gained a time');
  const ct = attributes.datacontenttype;
  const json = ct === undefined ? mode === 'structured' : /json/i.test(ct);
  const want = data === undefined || !json ? data : JSON.parse(data);
  const got = ArrayBuffer.isView(event.data) ? Buffer.from(event.data).toString() : event.data;
  if (JSON.stringify(got) !== JSON.stringify(want)) faults.push(`data ${describe(event.data)}`);
  return faults.length === 0 ? undefined : faults.join('; ');
}

/**
 * Each conformance event as written and, when a String of it ends in a line break (the
 * YAML literal blocks `|` keep one, and a String must not hold one, spec §3.3), as its
 * author meant it, the break chomped: [label, attributes, data, why it must be refused,
 * the names a refusal must mention].
 */
function variants({ origin, doc }) {
  const attributes = attributesOf(doc);
  const data = doc.Data ?? undefined;
  const broken = Object.keys(attributes).filter((k) => /[\u0000-\u001f]/.test(attributes[k]));
  let refuse;
  if (['id', 'source', 'specversion', 'type'].some((k) => attributes[k] === undefined)) {
    refuse = 'refused (incomplete)';
  } else if (attributes.specversion !== '1.0') refuse = 'refused (specversion)';
  else if (broken.length > 0) refuse = `refused (${broken.join(', ')} holds a line break)`;
  const out = [[origin, attributes, data, refuse, refuse?.includes('line break') ? broken : []]];
  if (refuse?.includes('line break')) {
    const chomped = { ...attributes };
    for (const k of broken) chomped[k] = chomped[k].replace(/\n$/, '');
    out.push([`${origin}, chomped`, chomped, data, undefined, []]);
  }
  return out;
}

function conformanceTable(dir) {
  const bridge = new EventBridge(__filename);
  const ours = ({ headers, body }) => {
    const rawHeaders = Object.entries(headers).flat();
    const { mode, records } = binding.decode(
      rawHeaders,
      headers['content-type'],
      Buffer.from(body),
    );
    return bridge.toEvent(records[0], mode);
  };
  const theirs = ({ headers, body }) => HTTP.toEvent({ headers, body });
  const passed = { sdk: 0, ours: 0, all: 0 };
  console.log('| Event | Mode | Wanted | The SDK | This invoker |');
  console.log('|---|---|---|---|---|');
  for (const [label, attributes, data, refuse, named] of conformanceEvents(dir).flatMap(variants)) {
    for (const mode of ['binary', 'structured']) {
      const req = request(mode, attributes, data);
      const judge = (decodeWith) => {
        try {
          const event = decodeWith(req);
          if (refuse !== undefined) return 'FAIL: accepted';
          const why = mismatch(event, mode, attributes, data);
          return why === undefined ? 'PASS' : `FAIL: ${why}`;
        } catch (e) {
          const message = e.message.split('\n')[0];
          if (refuse === undefined) return `FAIL: ${message}`;
          return named.every((name) => message.includes(name))
            ? 'PASS (refused)'
            : `FAIL: refused without naming ${named}`;
        }
      };
      const [sdk, own] = [judge(theirs), judge(ours)];
      passed.all += 1;
      passed.sdk += sdk.startsWith('PASS') ? 1 : 0;
      passed.ours += own.startsWith('PASS') ? 1 : 0;
      console.log(
        `| ${label} | ${mode} | ${refuse ?? 'decoded exactly'} | ${sdk.replaceAll('|', '\\|')} | ${own} |`,
      );
    }
  }
  console.log(
    `\nPassed: the SDK ${passed.sdk} of ${passed.all}, this invoker ${passed.ours} of ${passed.all}.`,
  );
}

const dir =
  process.env.MOTIF_CONFORMANCE_DIR ?? path.join(__dirname, '../../../../shared/conformance');
const pkg = require('cloudevents/package.json');
console.log(`cloudevents ${pkg.version}, Node ${process.version}\n`);
rulesTable();
console.log();
conformanceTable(path.join(dir, 'cloudevents-conformance'));
