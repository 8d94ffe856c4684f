'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const v = require('../lib/events/validate');

test('names are lower-case letters and digits', () => {
  for (const ok of ['id', 'comexampleextension1', 'a', '0']) v.name(ok);
  for (const bad of ['', 'Id', 'my-ext', 'my_ext', 'my.ext', 'é']) {
    assert.throws(
      () => v.name(bad),
      (e) => e.attribute === bad,
      bad,
    );
  }
});

test('strings refuse control characters, lone surrogates and noncharacters', () => {
  v.string('subject', 'Euro € 😀');
  for (const bad of [
    'a\u0000',
    'tab\t',
    '\u007f',
    '\u0085',
    '\ufdd0',
    '\ufffe',
    '\u{1ffff}',
    'x\ud800',
    '\udc00y',
  ]) {
    assert.throws(
      () => v.string('subject', bad),
      (e) => e.attribute === 'subject',
      JSON.stringify(bad),
    );
  }
});

test('a required string must not be empty', () => {
  assert.throws(() => v.required('id', ''), /attribute `id` must not be empty/);
});

test('uri-references accept relative and absolute forms', () => {
  for (const ok of [
    '/mycontext',
    'https://github.com/cloudevents/spec/pull',
    'urn:event:from:myapi/resource/123',
    'mailto:cncf-wg-serverless@lists.cncf.io',
    'cloudevents/spec/pull/123?x=%20y#frag',
    '1-555-123-4567',
    'http://[::1]/x',
    '//user:pass@[2001:db8::7]:8080/x?q=1#f/?',
    'http://[v1.fe80::a+en1]/',
    'http://example.com:80/a@b:c',
    'http://example.com:/',
  ]) {
    v.uriReference('source', ok);
  }
  for (const bad of [
    '',
    'has space',
    '%zz',
    'a%2',
    '<tag>',
    '1http://x',
    'a#b#c',
    'a[b]',
    'x?a[1]',
    '/s#[1]',
    'http://x:abc/',
    'http://a@b@c/',
    'http://[::1/x',
    'http://[zz]/x',
    'http://[]/x',
    'http://[::1]x/',
    'http://a[::1]/',
    '//a:b:c/',
    'café',
  ]) {
    assert.throws(
      () => v.uriReference('source', bad),
      (e) => e.attribute === 'source',
      bad,
    );
  }
});

test('uris must be absolute, without a fragment', () => {
  v.uri('dataschema', 'https://example.com/schema.json');
  v.uri('dataschema', 'urn:x:y');
  for (const bad of ['/schema.json', 'schema.json', 'https://e.com/s#frag', '', 'urn:x[1]']) {
    assert.throws(
      () => v.uri('dataschema', bad),
      (e) => e.attribute === 'dataschema',
      bad,
    );
  }
});

test('media types are ASCII', () => {
  v.mediaType('datacontenttype', 'text/plain; charset="utf-8"');
  for (const bad of ['', 'é/x', 'text/plain; charset="é"', 'text/plain;\tq=1']) {
    assert.throws(() => v.mediaType('datacontenttype', bad), undefined, JSON.stringify(bad));
  }
});

test('timestamps follow rfc 3339', () => {
  for (const ok of [
    '2018-04-05T17:31:00Z',
    '2018-04-05T03:56:24+02:00',
    '1985-04-12T23:20:50.52Z',
    '1985-04-12t23:20:50.52z',
    '2024-02-29T00:00:00Z',
    '2016-12-31T23:59:60Z',
  ]) {
    v.timestamp('time', ok);
  }
  for (const bad of [
    '2018-04-05',
    '2018-04-05T17:31:00',
    'yesterday',
    '2018-13-05T17:31:00Z',
    '2018-04-05 17:31:00Z',
    '2018-04-05X17:31:00Z',
    '2018-04-0517:31:00Z',
    '2023-02-29T00:00:00Z',
    '2018-04-31T00:00:00Z',
    '2018-04-05T24:00:00Z',
    '2018-04-05T17:31:00+0200',
  ]) {
    assert.throws(
      () => v.timestamp('time', bad),
      (e) => e.attribute === 'time',
      bad,
    );
  }
});
