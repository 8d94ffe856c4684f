"""The server over a real loopback socket: endpoints, limits, failures, drain, h2c."""

import asyncio
import json
import socket
import time

from conftest import serving

ECHO = """
import motif

def handle(request):
    return motif.Response(request.body, headers={"content-type": request.headers.get("content-type", "text/plain")})
"""


async def test_the_body_and_its_type_come_back(tmp_path):
    async with serving(tmp_path, ECHO) as f:
        r = await f.fetch(body=b"hello", headers={"content-type": "text/plain"})
        assert (r.status, r.body, r.header("content-type")) == (200, b"hello", "text/plain")
        r = await f.fetch(body=b"bytes")
        assert r.header("content-type") == "application/octet-stream"


async def test_the_invokers_endpoints_answer_get_only_and_are_not_counted(tmp_path):
    async with serving(tmp_path, ECHO) as f:
        assert (await f.fetch("GET", "/_/live")).body == b"ok"
        assert (await f.fetch("GET", "/_/ready")).status == 200
        assert (await f.fetch("POST", "/_/live")).status == 405
        unknown = await f.fetch("GET", "/_/unknown")
        assert (unknown.status, unknown.header("content-type")) == (404, "application/problem+json")
        await f.fetch(body=b"one")
        metrics = (await f.fetch("GET", "/_/metrics")).body.decode()
        assert 'motif_requests_total{code="200"} 1\n' in metrics
        assert "motif_request_duration_seconds_count 1\n" in metrics
        assert "motif_cold_start_seconds 0\n" not in metrics


async def test_a_hanging_sync_handler_times_out_alone(tmp_path):
    source = """
    import time, motif

    def handle(request):
        if request.path == "/hang":
            time.sleep(3)
        return motif.Response("fast")
    """
    async with serving(tmp_path, source, MOTIF_TIMEOUT="1") as f:
        hang = asyncio.create_task(f.fetch(path="/hang"))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        fast = await f.fetch(path="/fast")
        assert fast.status == 200 and time.monotonic() - started < 0.5
        timed_out = await hang
        assert timed_out.status == 504
        assert timed_out.json()["type"] == "https://motif.dev/problems/timeout"
        assert timed_out.json()["timeoutSeconds"] == 1.0


async def test_a_body_over_the_limit_is_a_413_the_client_reads(tmp_path):
    async with serving(tmp_path, ECHO, MOTIF_MAX_BODY="1024") as f:
        declared = await f.fetch(body=b"x" * 300_000)
        assert declared.status == 413
        assert declared.json()["limit"] == 1024
        chunked = await f.fetch(body=iter([b"x" * 1000, b"y" * 1000]))
        assert chunked.status == 413
        assert (await f.fetch(body=b"x" * 1024)).status == 200
        assert (await f.fetch("GET", "/_/live")).status == 200


async def test_over_the_concurrency_limit_and_queue_is_a_429_with_retry_after(tmp_path):
    source = """
    import asyncio

    async def handle(request):
        await asyncio.sleep(0.5)
        return "done"
    """
    async with serving(tmp_path, source, MOTIF_CONCURRENCY="1", MOTIF_QUEUE="1") as f:
        replies = await asyncio.gather(*(f.fetch() for _ in range(3)))
        assert sorted(r.status for r in replies) == [200, 200, 429]
        busy = next(r for r in replies if r.status == 429)
        assert busy.header("retry-after") == "1"


async def test_failures_are_problems_without_tracebacks(tmp_path):
    source = """
    import motif

    def handle(request):
        if request.path == "/teapot":
            raise motif.Error(418, "short and stout")
        raise ValueError("bad input")
    """
    async with serving(tmp_path, source) as f:
        teapot = await f.fetch(path="/teapot")
        assert (teapot.status, teapot.json()["type"]) == (418, "https://motif.dev/problems/function-error")
        assert teapot.json()["detail"] == "short and stout"
        failed = await f.fetch()
        assert failed.status == 500
        assert failed.json()["detail"] == "ValueError: bad input"
        assert b"Traceback" not in failed.body


async def test_hop_by_hop_headers_do_not_reach_the_function_and_context_is_set(tmp_path):
    source = """
    import motif

    def handle(request):
        cx = motif.context()
        return {"hop": request.headers.get("x-hop"), "kept": request.headers.get_all("x-kept"),
                "name": cx.function_name, "traceparent": cx.traceparent}
    """
    async with serving(tmp_path, source, MOTIF_FUNCTION_NAME="info") as f:
        r = await f.fetch(
            "GET",
            headers=[("connection", "x-hop"), ("x-hop", "secret"), ("x-kept", "a"), ("x-kept", "b"),
                     ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")],
        )
        info = r.json()
        assert (info["hop"], info["kept"], info["name"]) == (None, ["a", "b"], "info")
        assert info["traceparent"].startswith("00-0af7651916cd43dd8448eb211c80319c-")


async def test_a_response_type_accept_excludes_is_a_406(tmp_path):
    async with serving(tmp_path, ECHO) as f:
        r = await f.fetch(body=b"x", headers={"content-type": "text/plain", "accept": "application/json"})
        assert r.status == 406
        ok = await f.fetch(body=b"x", headers={"content-type": "text/plain", "accept": "text/*"})
        assert ok.status == 200


async def test_pipelined_requests_are_answered_in_order(tmp_path):
    async with serving(tmp_path, ECHO) as f:
        reader, writer = await asyncio.open_connection("127.0.0.1", f.port)
        writer.write(
            b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\none"
            b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\nconnection: close\r\n\r\ntwo"
        )
        raw = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert raw.count(b"HTTP/1.1 200 OK") == 2
        assert raw.index(b"\r\n\r\none") < raw.index(b"\r\n\r\ntwo")


async def test_malformed_http_is_a_400_problem(tmp_path):
    async with serving(tmp_path, ECHO) as f:
        reader, writer = await asyncio.open_connection("127.0.0.1", f.port)
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        raw = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert raw.startswith(b"HTTP/1.1 400 ")
        assert b"application/problem+json" in raw


async def test_sigterm_drains_in_flight_requests_then_runs_the_shutdown_hook(tmp_path):
    source = f"""
    import asyncio

    async def handle(request):
        await asyncio.sleep(0.5)
        return "finished"

    def shutdown():
        open({str(tmp_path / "shutdown")!r}, "w").close()
    """
    async with serving(tmp_path, source) as f:
        in_flight = asyncio.create_task(f.fetch())
        await asyncio.sleep(0.1)
        f.stop.set()
        await asyncio.sleep(0.05)
        assert (await f.fetch("GET", "/_/ready")).status == 503
        assert (await in_flight).body == b"finished"
        assert await asyncio.wait_for(f.task, 5) == 0
        assert (tmp_path / "shutdown").exists()
        try:
            socket.create_connection(("127.0.0.1", f.port), timeout=1).close()
            raise AssertionError("still accepting connections after the drain")
        except ConnectionRefusedError:
            pass


async def h2_post(port: int, body: bytes) -> tuple[bytes | None, bytes]:
    """A POST over h2c with prior knowledge (the h2 library as the client): the status
    and body of the answer. The body is sent as far as the flow-control window allows."""
    import h2.config
    import h2.connection
    import h2.events

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    client.initiate_connection()
    client.send_headers(1, [(":method", "POST"), (":path", "/"), (":scheme", "http"), (":authority", "x"),
                            ("content-type", "text/plain"), ("content-length", str(len(body)))])
    sent = min(len(body), client.local_flow_control_window(1))
    for start in range(0, sent, client.max_outbound_frame_size):
        chunk = body[start : min(start + client.max_outbound_frame_size, sent)]
        client.send_data(1, chunk, end_stream=start + len(chunk) == len(body))
    writer.write(client.data_to_send())
    status, answer, ended = None, b"", False
    while not ended:
        for event in client.receive_data(await asyncio.wait_for(reader.read(65536), 5)):
            if isinstance(event, h2.events.ResponseReceived):
                status = dict(event.headers)[b":status"]
            elif isinstance(event, h2.events.DataReceived):
                answer += event.data
            elif isinstance(event, h2.events.StreamEnded):
                ended = True
        writer.write(client.data_to_send())
    writer.close()
    return status, answer


async def test_h2c_with_prior_knowledge_is_served(tmp_path):
    async with serving(tmp_path, ECHO) as f:
        assert await h2_post(f.port, b"over h2c") == (b"200", b"over h2c")


async def test_over_h2c_a_body_over_the_limit_is_answered_before_it_is_sent(tmp_path):
    async with serving(tmp_path, ECHO, MOTIF_MAX_BODY="1024") as f:
        status, body = await h2_post(f.port, b"x" * 300_000)
        assert status == b"413"
        assert json.loads(body)["limit"] == 1024


CE_HEADERS = {"ce-specversion": "1.0", "ce-id": "e1", "ce-source": "/s", "ce-type": "t"}
EVENT_ECHO = """
async def handle(event):
    return event
"""


async def test_a_cloudevent_comes_back_in_its_mode_with_a_traceparent(tmp_path):
    async with serving(tmp_path, EVENT_ECHO, MOTIF_FUNCTION_KIND="cloudevent") as f:
        binary = await f.fetch(body=b'{"a": 1}', headers={**CE_HEADERS, "content-type": "application/json", "ce-x": "caf%C3%A9"})
        assert binary.status == 200
        assert (binary.header("ce-id"), binary.header("ce-x"), binary.body) == ("e1", "caf%C3%A9", b'{"a": 1}')
        assert binary.header("ce-traceparent").startswith("00-")
        body = json.dumps({"specversion": "1.0", "id": "s1", "source": "/s", "type": "t", "data": [1]}).encode()
        structured = await f.fetch(body=body, headers={"content-type": "application/cloudevents+json"})
        assert structured.header("content-type") == "application/cloudevents+json"
        assert structured.json()["data"] == [1]


async def test_a_cloudevent_function_refuses_what_is_not_a_cloudevent(tmp_path):
    async with serving(tmp_path, EVENT_ECHO, MOTIF_FUNCTION_KIND="cloudevent") as f:
        r = await f.fetch(body=b"{}", headers={"content-type": "application/json"})
        assert (r.status, r.json()["type"]) == (400, "https://motif.dev/problems/not-a-cloudevent")
        get = await f.fetch("GET")
        assert (get.status, get.header("allow")) == (405, "POST, OPTIONS")
        assert (await f.fetch(path="/other", headers=CE_HEADERS)).status == 404
        preflight = await f.fetch("OPTIONS", headers={"webhook-request-origin": "example.com"})
        assert (preflight.status, preflight.header("webhook-allowed-origin")) == (200, "*")
