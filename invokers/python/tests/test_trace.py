from motif.trace import TraceContext

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_a_valid_traceparent_is_continued_with_a_new_span():
    t = TraceContext.continue_from(PARENT, "congo=t61rcWkgMzE")
    assert t.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert t.parent_id == "b7ad6b7169203331"
    assert t.span_id != "b7ad6b7169203331"
    assert t.traceparent.startswith("00-0af7651916cd43dd8448eb211c80319c-")
    assert t.traceparent.endswith("-01")
    assert t.tracestate == "congo=t61rcWkgMzE"


def test_an_invalid_traceparent_starts_a_new_trace():
    for bad in [
        "",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
    ]:
        t = TraceContext.continue_from(bad, "kept=no")
        assert t.parent_id is None, bad
        assert t.trace_id != "0af7651916cd43dd8448eb211c80319c"
        assert t.tracestate is None
        assert len(t.traceparent) == 55


def test_later_versions_are_read_forward_compatibly():
    t = TraceContext.continue_from("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-ever", None)
    assert t.parent_id == "b7ad6b7169203331"
