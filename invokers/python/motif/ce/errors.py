"""Why an event or a request could not be decoded, as the problem that says so.

The wording, slugs and extension members (`attribute`, `missing`) are those of
motif-contract's `error.rs` and `problem.rs`.
"""

from __future__ import annotations

from motif.problem import Problem


class EventError(Exception):
    """An event that breaks a rule of CloudEvents 1.0.2, or a request that carries none.

    `attribute` names the attribute at fault, when there is one, so the caller can fix it.
    """

    def __init__(self, detail: str, attribute: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.attribute = attribute

    def problem(self) -> Problem:
        """The problem the contract answers with: a 400 `invalid-event`."""
        return self._with_attribute(Problem(400, "invalid-event", "Invalid CloudEvent", self.detail))

    def _with_attribute(self, problem: Problem) -> Problem:
        if self.attribute is not None:
            problem.extensions["attribute"] = self.attribute
        return problem


class NotACloudEvent(EventError):
    """A binary-mode request without the required `ce-` headers."""

    def __init__(self, missing: list[str]) -> None:
        plural = "" if len(missing) == 1 else "s"
        listed = ", ".join(f"`{h}`" for h in missing)
        super().__init__(f"request is not a CloudEvent: missing header{plural} {listed}")
        self.missing = missing

    def problem(self) -> Problem:
        detail = (
            f"{self.detail}; send a CloudEvent in binary mode (ce- headers) or structured "
            "mode (Content-Type: application/cloudevents+json)"
        )
        return Problem(400, "not-a-cloudevent", "Not a CloudEvent", detail, missing=self.missing)


class UnsupportedFormat(EventError):
    """A structured or batch format other than JSON: a 415."""

    def __init__(self, media_type: str) -> None:
        super().__init__(
            f"event format `{media_type}` is not supported: use application/cloudevents+json"
        )

    def problem(self) -> Problem:
        return Problem(415, "unsupported-media-type", "Unsupported media type", self.detail)


def missing(name: str) -> EventError:
    """A REQUIRED attribute is absent."""
    return EventError(f"missing required attribute `{name}`", name)


def invalid(name: str, reason: str) -> EventError:
    """An attribute's value breaks its type's rules; `reason` follows the name."""
    return EventError(f"attribute `{name}` {reason}", name)


def invalid_name(name: str) -> EventError:
    """An attribute name outside `[a-z0-9]+`."""
    return EventError(
        f"attribute name `{name}` is invalid: names are one or more of a-z and 0-9", name
    )


def duplicate(name: str) -> EventError:
    """The same attribute given twice."""
    return EventError(f"attribute `{name}` appears more than once", name)


def unsupported_specversion(found: str) -> EventError:
    """A `specversion` other than `1.0`."""
    return EventError(
        f"specversion `{found}` is not supported: motif speaks CloudEvents 1.0", "specversion"
    )


def datacontenttype_header() -> EventError:
    """A binary-mode request with a `ce-datacontenttype` header."""
    return EventError(
        "header `ce-datacontenttype` is not allowed in binary mode: send the data's type "
        "as `Content-Type`",
        "datacontenttype",
    )


def data_conflict() -> EventError:
    """A JSON event with both `data` and `data_base64`."""
    return EventError("event has both `data` and `data_base64`: they are mutually exclusive")


def invalid_json(reason: str) -> EventError:
    """A body that is not the JSON it claims to be."""
    return EventError(f"body is not a valid JSON event: {reason}")
