'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { decode, encode } = require('../lib/events/percent');

// Header values as Node gives them: one character per byte.
const latin1 = (s) => Buffer.from(s, 'utf8').toString('latin1');

test('the spec example encodes as written', () => {
  assert.equal(encode('Euro € 😀'), 'Euro%20%E2%82%AC%20%F0%9F%98%80');
  assert.equal(encode('100% "quoted"'), '100%25%20%22quoted%22');
  assert.equal(encode('plain'), 'plain');
});

test('decoding accepts lower-case hex and needless escapes', () => {
  assert.equal(decode('Euro%20%e2%82%ac'), 'Euro €');
  assert.equal(decode('%41%42C'), 'ABC');
});

test('decoding happens exactly once', () => {
  assert.equal(decode('%2541'), '%41');
});

test('raw UTF-8 in a header is read as UTF-8', () => {
  assert.equal(decode(latin1('café')), 'café');
});

test('invalid and overlong UTF-8 is refused', () => {
  for (const bad of ['%C0%A0', '%E2%82', '%ED%A0%80', '\xff']) {
    assert.throws(() => decode(bad), /not valid UTF-8/, bad);
  }
});

test('malformed escapes are refused', () => {
  for (const bad of ['%', '%4', '%zz', 'a%g1']) {
    assert.throws(() => decode(bad), /malformed percent-escape/, bad);
  }
});

test('quoted strings are unquoted before percent-decoding', () => {
  assert.equal(decode('"hello world"'), 'hello world');
  assert.equal(decode('"a\\"b\\\\c"'), 'a"b\\c');
  assert.equal(decode('"%20"'), ' ');
  assert.throws(() => decode('"open'), /malformed quoted-string/);
  assert.throws(() => decode('"trailing\\"'), /malformed quoted-string/);
});
