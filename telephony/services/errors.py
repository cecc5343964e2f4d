"""The one error type of the services: a change or request refused for a reason people can act on.

`message` is for people (shown as is), `code` is stable for the API's JSON, `field` names the
form field the message belongs to (None: the form as a whole), `status` is the HTTP status the
API answers with. Every service error derives from it (`PhoneError`, `CallError`,
`ServerInUseError`, `CsvImportError`, ...); `telephony/views/service_errors.py` turns it into a
form error or the API's JSON error, so no view formats one by hand.
"""

from __future__ import annotations


class ServiceError(Exception):
    code = "refused"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, str]:
        """The API's error body (docs/api.md)."""
        return {"error": self.message, "code": self.code}
