'use strict';
/**
 * `MOTIF_CONCURRENCY` with a bounded queue behind it (CONTRACT.md §5): the slot a request
 * runs in, a place in line when every slot is taken, and a refusal (429) when the line
 * is full. As crates/runtime/src/limit.rs.
 */

/** Returned by {@link Limiter#acquire} when a slot was free. */
const GRANTED = true;
/** Returned by {@link Limiter#acquire} when every slot is taken and the line is full. */
const FULL = false;

/** A place in line: `granted` resolves when a slot is handed over. */
class Waiter {
  constructor() {
    this.waiting = true;
    /** @type {() => void} */
    this.resolve = () => {};
    /** @type {Promise<void>} */
    this.granted = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }
}

/** Slots and a queue; 0 slots means unlimited. */
class Limiter {
  /**
   * @param {number} slots
   * @param {number} queue how many may wait for a slot
   * @param {{queued: number}} gauge where the length of the line is kept (the metrics)
   */
  constructor(slots, queue, gauge) {
    this.unlimited = slots === 0;
    this.free = slots;
    this.queue = queue;
    this.gauge = gauge;
    /** @type {Waiter[]} */
    this.waiters = [];
  }

  /**
   * Takes a slot, or a place in line when there is room in it.
   * @returns {typeof GRANTED | typeof FULL | Waiter}
   */
  acquire() {
    if (this.unlimited) return GRANTED;
    if (this.free > 0) {
      this.free -= 1;
      return GRANTED;
    }
    if (this.waiters.length >= this.queue) return FULL;
    const waiter = new Waiter();
    this.waiters.push(waiter);
    this.gauge.queued = this.waiters.length;
    return waiter;
  }

  /**
   * Leaves the line (the request timed out while waiting). A slot handed over in the
   * meantime, before the waiter saw it, is given back.
   * @param {Waiter} waiter
   */
  cancel(waiter) {
    if (!waiter.waiting) {
      this.release();
      return;
    }
    waiter.waiting = false;
    this.waiters.splice(this.waiters.indexOf(waiter), 1);
    this.gauge.queued = this.waiters.length;
  }

  /** Gives a slot back: to the first in line, else to the pool. */
  release() {
    if (this.unlimited) return;
    const next = this.waiters.shift();
    this.gauge.queued = this.waiters.length;
    if (next === undefined) {
      this.free += 1;
    } else {
      next.waiting = false;
      next.resolve();
    }
  }
}

module.exports = { FULL, GRANTED, Limiter, Waiter };
