from motif.metrics import Metrics


def test_renders_counts_buckets_and_gauges_as_motif_runtime_does():
    m = Metrics()
    m.record(200, 0.0003)
    m.record(200, 0.02)
    m.record(504, 61)
    m.in_flight = 1
    m.cold_start = 0.007
    text = m.render().decode()
    for line in [
        'motif_requests_total{code="200"} 2',
        'motif_requests_total{code="504"} 1',
        'motif_request_duration_seconds_bucket{le="0.0005"} 1',
        'motif_request_duration_seconds_bucket{le="0.025"} 2',
        'motif_request_duration_seconds_bucket{le="1"} 2',
        'motif_request_duration_seconds_bucket{le="60"} 2',
        'motif_request_duration_seconds_bucket{le="+Inf"} 3',
        "motif_request_duration_seconds_count 3",
        "motif_requests_in_flight 1",
        "motif_requests_queued 0",
        "motif_cold_start_seconds 0.007",
        "# TYPE motif_request_duration_seconds histogram",
    ]:
        assert line + "\n" in text, line
