'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Metrics } = require('../lib/metrics');

test('metrics render counts, buckets and gauges as the rust runtime does', () => {
  const m = new Metrics();
  m.record(200, 0.3);
  m.record(200, 20);
  m.record(504, 61_000);
  m.inFlight = 1;
  m.setColdStart(7);
  const text = m.render();
  for (const line of [
    'motif_requests_total{code="200"} 2',
    'motif_requests_total{code="504"} 1',
    'motif_request_duration_seconds_bucket{le="0.0005"} 1',
    'motif_request_duration_seconds_bucket{le="0.025"} 2',
    'motif_request_duration_seconds_bucket{le="60"} 2',
    'motif_request_duration_seconds_bucket{le="+Inf"} 3',
    'motif_request_duration_seconds_sum 61.0203',
    'motif_request_duration_seconds_count 3',
    'motif_requests_in_flight 1',
    'motif_requests_queued 0',
    'motif_cold_start_seconds 0.007',
  ]) {
    assert.ok(text.includes(`${line}\n`), `${line} in\n${text}`);
  }
});
