"""Record what a real Asterisk sends over AMI, in the transcript format of
telephony/tests/fakes/transcripts/ (`### >>> SENT`, `### <<< RECEIVED` blocks), so the fakes
can be checked against it and replay it.

    with AmiRecorder(pbx) as rec:
        rec.send({"Action": "Status", "Variables": "AUTODIALER_CALL_ID"},
                 until="Event: StatusComplete")
    rec.save(TRANSCRIPTS / "ami_status_live_call.txt")

Every event of a whole call, from a test (saved only when RECORD_TRANSCRIPTS names a
directory, e.g. RECORD_TRANSCRIPTS=telephony/tests/fakes/transcripts):

    with recording(pbx, "ami_carrier_calls_extension.txt"):
        ...the call...
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path


class AmiRecorder:
    def __init__(self, pbx, *, events: bool = False) -> None:
        self.pbx = pbx
        self.events = events
        self.lines: list[str] = []
        self._buffer = b""
        self._sock: socket.socket | None = None
        self._count = 0

    def __enter__(self) -> AmiRecorder:
        self._sock = socket.create_connection(("127.0.0.1", self.pbx.ami_port), timeout=5)
        self.lines.append(f"### >>> connect 127.0.0.1:{self.pbx.ami_port} "
                          f"({time.strftime('%Y-%m-%d %H:%M:%S')})")
        self._receive(until="Asterisk Call Manager", lines_only=True)
        self.send({"Action": "Login", "Username": self.pbx.ami_username,
                   "Secret": self.pbx.ami_secret, "Events": "on" if self.events else "off"},
                  until="Message: Authentication accepted")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._sock is not None:
            self._sock.close()

    def send(self, headers: dict[str, str], *, until: str, timeout: float = 5.0) -> str:
        """Send one action (ActionID added), return everything received up to `until`."""
        self._count += 1
        headers = {**headers, "ActionID": headers.get("ActionID", f"rec-{self._count}")}
        text = "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.lines.append(f"### >>> SENT ({time.strftime('%H:%M:%S')})")
        self.lines += text.replace("\r\n", "\n").rstrip("\n").split("\n")
        self.lines.append("")
        self._sock.sendall(text.encode())
        return self._receive(until=until, timeout=timeout)

    def _receive(self, *, until: str, timeout: float = 5.0, lines_only: bool = False) -> str:
        deadline = time.monotonic() + timeout
        received = ""
        while until not in received:
            if time.monotonic() > deadline:
                raise AssertionError(f"AMI never sent {until!r}; got:\n{received}")
            self._sock.settimeout(max(deadline - time.monotonic(), 0.05))
            chunk = self._sock.recv(65536)
            if not chunk:
                break
            received += chunk.decode(errors="replace")
        # Read the rest of the message that matched (up to its blank line).
        while not received.endswith("\r\n\r\n") and not lines_only:
            chunk = self._sock.recv(65536)
            if not chunk:
                break
            received += chunk.decode(errors="replace")
        self.lines.append("### <<< RECEIVED")
        self.lines += received.replace("\r\n", "\n").rstrip("\n").split("\n")
        self.lines.append("")
        return received

    def listen(self) -> None:
        """Keep everything Asterisk sends from now on (in a thread) until stop_listening()."""
        self._listening = threading.Event()
        self._received: list[bytes] = []

        def run() -> None:
            self._sock.settimeout(0.2)
            while not self._listening.is_set():
                try:
                    chunk = self._sock.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                self._received.append(chunk)

        self._listener = threading.Thread(target=run, daemon=True, name="ami-recorder")
        self._listener.start()

    def stop_listening(self) -> None:
        self._listening.set()
        self._listener.join(5)
        received = b"".join(self._received).decode(errors="replace")
        self.lines.append("### <<< RECEIVED")
        self.lines += received.replace("\r\n", "\n").rstrip("\n").split("\n")
        self.lines.append("")

    def save(self, path: Path) -> None:
        path.write_text("\n".join(self.lines) + "\n")


@contextlib.contextmanager
def recording(pbx, name: str) -> Iterator[AmiRecorder | None]:
    """Record every AMI frame while the block runs, into $RECORD_TRANSCRIPTS/`name`; does
    nothing when RECORD_TRANSCRIPTS is not set (the usual run)."""
    directory = os.environ.get("RECORD_TRANSCRIPTS")
    if not directory:
        yield None
        return
    with AmiRecorder(pbx, events=True) as recorder:
        recorder.listen()
        try:
            yield recorder
        finally:
            recorder.stop_listening()
            recorder.save(Path(directory) / name)
