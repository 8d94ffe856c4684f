"""The handler's tests: `python3 -m unittest` runs them, with no server and without the
invoker installed (`pip install -r requirements.txt` first)."""

import unittest
from typing import Any

from cloudevents.core.v1.event import CloudEvent

from func import GREETING, REPLY_TYPE, SOURCE, handle


def event(data: Any = None, datacontenttype: str = "application/json") -> CloudEvent:
    """An event as a client would send it to the function."""
    attributes = {"id": "42", "source": "/tests", "type": "dev.motif.greet"}
    if data is not None:
        attributes["datacontenttype"] = datacontenttype
    return CloudEvent(attributes, data)


class HandleTest(unittest.TestCase):
    def test_answers_with_a_greeting_for_the_name(self) -> None:
        reply = handle(event({"name": "motif"}))
        assert reply is not None
        self.assertEqual(reply.get_id(), "42.reply")
        self.assertEqual(reply.get_source(), SOURCE)
        self.assertEqual(reply.get_type(), REPLY_TYPE)
        self.assertEqual(reply.get_datacontenttype(), "application/json")
        self.assertEqual(reply.get_data(), {"message": f"{GREETING}, motif!"})

    def test_takes_the_name_as_text_too(self) -> None:
        reply = handle(event("motif\n", "text/plain"))
        assert reply is not None
        self.assertEqual(reply.get_data(), {"message": f"{GREETING}, motif!"})

    def test_greets_the_world_without_a_name(self) -> None:
        reply = handle(event({}))
        assert reply is not None
        self.assertEqual(reply.get_data(), {"message": f"{GREETING}, world!"})

    def test_an_event_without_data_gets_no_reply(self) -> None:
        self.assertIsNone(handle(event()))


if __name__ == "__main__":
    unittest.main()
