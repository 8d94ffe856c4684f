'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { setTimeout: sleep } = require('node:timers/promises');
const { QUEUE_FULL, TIMED_OUT, callLimited } = require('../lib/call');
const { Limiter } = require('../lib/limiter');

test('a synchronous handler gets its outcome at once, a throw included', () => {
  const limiter = new Limiter(0, 0, { queued: 0 });
  assert.deepEqual(
    callLimited(limiter, 1000, () => 42),
    { value: 42 },
  );
  const e = new Error('boom');
  assert.deepEqual(
    callLimited(limiter, 1000, () => {
      throw e;
    }),
    { error: e },
  );
});

test('an asynchronous handler past its deadline times out and gives its slot back', async () => {
  const limiter = new Limiter(1, 0, { queued: 0 });
  assert.equal(await callLimited(limiter, 20, () => sleep(1000)), TIMED_OUT);
  assert.deepEqual(await callLimited(limiter, 1000, async () => 'next'), { value: 'next' });
});

test('over the slots and a full queue the call is refused', async () => {
  const gauge = { queued: 0 };
  const limiter = new Limiter(1, 1, gauge);
  const first = callLimited(limiter, 1000, () => sleep(50, 'first'));
  const second = callLimited(limiter, 1000, async () => 'second');
  assert.equal(gauge.queued, 1);
  assert.equal(
    callLimited(limiter, 1000, async () => 'third'),
    QUEUE_FULL,
  );
  assert.deepEqual(await first, { value: 'first' });
  assert.deepEqual(await second, { value: 'second' });
  assert.equal(gauge.queued, 0);
});

test('the wait in line counts against the deadline', async () => {
  const gauge = { queued: 0 };
  const limiter = new Limiter(1, 4, gauge);
  const first = callLimited(limiter, 1000, () => sleep(100, 'first'));
  let ran = false;
  const waiting = callLimited(limiter, 30, () => {
    ran = true;
  });
  assert.equal(await waiting, TIMED_OUT);
  assert.equal(gauge.queued, 0);
  await first;
  assert.equal(ran, false);
  assert.deepEqual(await callLimited(limiter, 1000, async () => 'free again'), {
    value: 'free again',
  });
});

test('a slot handed to a waiter that just timed out is given back', () => {
  const limiter = new Limiter(1, 1, { queued: 0 });
  assert.equal(limiter.acquire(), true);
  const waiter = limiter.acquire();
  limiter.release(); // hands the slot to the waiter...
  limiter.cancel(/** @type {import('../lib/limiter').Waiter} */ (waiter)); // ...which gave up meanwhile
  assert.equal(limiter.acquire(), true);
});
