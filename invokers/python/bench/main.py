"""The benchmark's function for Google's functions-framework (scripts/bench-python.sh),
as in shared/research/peers-bench.md: an http echo (body and `Content-Type`), and a
CloudEvent function. The framework answers a CloudEvent function with `200 OK` whatever
it returns, so that scenario measures receiving an event, not echoing one."""

import functions_framework


@functions_framework.http
def echo(request):
    return request.get_data(), 200, {"Content-Type": request.content_type}


@functions_framework.cloud_event
def echo_ce(cloud_event):
    return cloud_event.data
