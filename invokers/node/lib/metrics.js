'use strict';
/**
 * Request metrics in the Prometheus text format 0.0.4 (`/_/metrics`, CONTRACT.md §1),
 * with the names, buckets and shapes of crates/runtime/src/metrics.rs. Plain counters:
 * every function request touches them, so they cost an array index, not a map lookup.
 */

/**
 * Histogram bounds in seconds: sub-millisecond for in-process handlers up to the
 * contract's 60 s default timeout.
 */
const BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** The counters of one function server. */
class Metrics {
  constructor() {
    /** Requests by status code, 100-599. */
    this.byStatus = new Array(500).fill(0);
    /** A count per bucket, the last one +Inf; made cumulative when rendered. */
    this.buckets = new Array(BUCKETS.length + 1).fill(0);
    /** Total duration in microseconds. */
    this.sumMicros = 0;
    /** Function requests being handled now. */
    this.inFlight = 0;
    /** Requests waiting for a concurrency slot now. */
    this.queued = 0;
    /** Microseconds from process start to ready; 0 until ready. */
    this.coldStartMicros = 0;
  }

  /**
   * Records a finished function request.
   * @param {number} status
   * @param {number} elapsedMs
   */
  record(status, elapsedMs) {
    if (status >= 100 && status <= 599) this.byStatus[status - 100] += 1;
    const seconds = elapsedMs / 1000;
    let bucket = 0;
    while (bucket < BUCKETS.length && seconds > BUCKETS[bucket]) bucket += 1;
    this.buckets[bucket] += 1;
    this.sumMicros += Math.round(elapsedMs * 1000);
  }

  /**
   * Records the time from process start to ready.
   * @param {number} elapsedMs
   */
  setColdStart(elapsedMs) {
    this.coldStartMicros = Math.max(1, Math.round(elapsedMs * 1000));
  }

  /** The text exposition. */
  render() {
    const lines = [
      '# HELP motif_requests_total Function requests by HTTP status code.',
      '# TYPE motif_requests_total counter',
    ];
    this.byStatus.forEach((n, i) => {
      if (n > 0) lines.push(`motif_requests_total{code="${i + 100}"} ${n}`);
    });
    lines.push(
      '# HELP motif_request_duration_seconds Time from request to response.',
      '# TYPE motif_request_duration_seconds histogram',
    );
    let cumulative = 0;
    this.buckets.forEach((n, i) => {
      cumulative += n;
      const le = i < BUCKETS.length ? String(BUCKETS[i]) : '+Inf';
      lines.push(`motif_request_duration_seconds_bucket{le="${le}"} ${cumulative}`);
    });
    lines.push(
      `motif_request_duration_seconds_sum ${this.sumMicros / 1e6}`,
      `motif_request_duration_seconds_count ${cumulative}`,
      '# HELP motif_requests_in_flight Function requests being handled now.',
      '# TYPE motif_requests_in_flight gauge',
      `motif_requests_in_flight ${this.inFlight}`,
      '# HELP motif_requests_queued Requests waiting for a concurrency slot.',
      '# TYPE motif_requests_queued gauge',
      `motif_requests_queued ${this.queued}`,
      '# HELP motif_cold_start_seconds Time from process start to ready.',
      '# TYPE motif_cold_start_seconds gauge',
      `motif_cold_start_seconds ${this.coldStartMicros / 1e6}`,
    );
    return `${lines.join('\n')}\n`;
  }
}

module.exports = { Metrics };
