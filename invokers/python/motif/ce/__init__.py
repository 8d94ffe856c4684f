"""CloudEvents 1.0.2 over HTTP for the Python invoker: the binding's three modes, the
JSON format, and the rules every attribute is checked against, with the SDK's
`cloudevents.core.v1.event.CloudEvent` as the event type handlers see."""
