"""The error type shared by the AMI and ARI clients.

Views catch `AsteriskError` (or the protocol-specific subclass) and show `.message` as is;
`.kind` lets them pick a response without parsing text.
"""

from __future__ import annotations

# unreachable: TCP/DNS/TLS failure or the peer closed the connection
# auth:        Asterisk refused the credentials
# timeout:     nothing (or not enough) came back within the configured timeout
# action:      Asterisk answered, but refused or failed the request
# invalid:     we refused to send the request (e.g. a line break in an AMI value)
KINDS = frozenset({"unreachable", "auth", "timeout", "action", "invalid"})


class AsteriskError(Exception):
    """`maybe_sent` is True when the request left us before the failure (the connection
    dropped or timed out while we waited for the answer): Asterisk may have acted on it."""

    def __init__(self, kind: str, message: str, *, maybe_sent: bool = False) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown error kind {kind!r}")
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.maybe_sent = maybe_sent

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r}, message={self.message!r})"
