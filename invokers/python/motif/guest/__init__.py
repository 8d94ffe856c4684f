"""The same function as a WebAssembly component, built with componentize-py.

`python3 -m motif.guest` builds one (see `build.py`); at run time `event.py` (the
`motif:function` cloudevent world's `handler` export) or `http.py` (the `http-function`
world's `wasi:http/incoming-handler` export) turns the host's values into the ones a
function takes natively, a `CloudEvent` or a `Request`, calls its `handle`, and turns
the answer back. The host (`motif-invoker --wasm`) does the rest of the contract.

The adapter modules import `wit_world`, which exists only inside a componentize-py
build; `loop.py` and `call.py` run anywhere.
"""
