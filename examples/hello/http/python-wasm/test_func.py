"""The handler's tests: `python3 -m unittest` runs them, with no server and without the
invoker installed."""

import unittest

from func import GREETING, handle


class Request:
    """A stand-in for `motif.Request` with what the handler reads."""

    def __init__(self, body: bytes = b"", method: str = "POST", path: str = "/") -> None:
        self.method = method
        self.path = path
        self.query = ""
        self.headers = {"content-type": "text/plain"}
        self.body = body

    def text(self) -> str:
        return self.body.decode("utf-8")


class HandleTest(unittest.TestCase):
    def test_greets_the_name_in_the_body(self) -> None:
        self.assertEqual(handle(Request(b" motif\n")), f"{GREETING}, motif!\n")

    def test_greets_the_world_without_a_body(self) -> None:
        self.assertEqual(handle(Request(method="GET")), f"{GREETING}, world!\n")


if __name__ == "__main__":
    unittest.main()
