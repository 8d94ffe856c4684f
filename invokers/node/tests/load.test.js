'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { FIXTURES } = require('./helpers');
const { loadFunction, resolveModule } = require('../lib/load');

const load = async (specifier) => loadFunction(resolveModule(specifier, FIXTURES));

test('commonjs and es modules load, by named export, default export or module.exports', async () => {
  for (const [specifier, answer] of [
    ['cjs-exports.js', 'cjs exports'],
    ['cjs-function.cjs', 'module.exports'],
    ['cjs-object.js', 'bound'],
    ['esm-named.mjs', 'esm named'],
    ['esm-default.mjs', 'esm default'],
    ['esm-top-level-await.mjs', 'top-level await'],
    ['cjs-function-with-hooks.js', 'function with hooks'],
  ]) {
    const fn = await load(specifier);
    assert.equal(await fn.handle(), answer, specifier);
  }
});

test('the hooks are found beside the handler', async () => {
  assert.equal(typeof (await load('cjs-exports.js')).init, 'function');
  assert.equal(typeof (await load('esm-named.mjs')).init, 'function');
  assert.equal((await load('esm-default.mjs')).init, undefined);
  assert.equal(typeof (await load('cjs-function-with-hooks.js')).shutdown, 'function');
});

test('a directory loads its package entry: exports, main, or index.js', async () => {
  assert.equal((await load('pkg-exports')).handle(), 'package exports, import');
  assert.equal((await load('pkg-main')).handle(), 'package main');
  assert.equal((await load('pkg-index')).handle(), 'package index');
});

test('what cannot be loaded says what to do', async () => {
  assert.throws(
    () => resolveModule('missing.js', FIXTURES),
    (e) => /cannot find/.test(e.message) && /give the path/.test(e.hint),
  );
  assert.throws(() => resolveModule('.', __dirname), /no entry file/);
  await assert.rejects(
    load('no-handler.js'),
    (e) => /exports no handler/.test(e.message) && /named `handle`/.test(e.hint),
  );
  await assert.rejects(load('bad-init.mjs'), /exports `init`, but not as a function/);
  await assert.rejects(
    load('throws-on-load.js'),
    (e) => /failed to load/.test(e.message) && e.cause.message === 'broken module',
  );
});
