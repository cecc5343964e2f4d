"""The server side of RFC 6455, just enough for the ARI fake's /ari/events: the handshake on
an http.server request, unmasked text frames out, masked client frames in (close, ping)."""

from __future__ import annotations

import base64
import hashlib
import struct
import threading
from typing import Any, BinaryIO

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()


def frame(opcode: int, payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return header + payload


class ServerSocket:
    """One accepted WebSocket: `send_text` from any thread, `serve` in the handler thread."""

    def __init__(self, rfile: BinaryIO, wfile: BinaryIO, connection: Any) -> None:
        self.rfile, self.wfile, self.connection = rfile, wfile, connection
        self._lock = threading.Lock()
        self.closed = threading.Event()

    def send_text(self, text: str) -> bool:
        return self._send(frame(0x1, text.encode()))

    def _send(self, data: bytes) -> bool:
        if self.closed.is_set():
            return False
        with self._lock:
            try:
                self.wfile.write(data)
                self.wfile.flush()
                return True
            except OSError:
                self.closed.set()
                return False

    def drop(self) -> None:
        """End the TCP connection without a close frame, like a crashed Asterisk."""
        self.closed.set()
        try:
            self.connection.shutdown(2)
        except OSError:
            pass

    def serve(self) -> None:
        """Read client frames until the client closes or the connection drops."""
        try:
            while not self.closed.is_set():
                head = self.rfile.read(2)
                if len(head) < 2:
                    break
                opcode, size = head[0] & 0x0F, head[1] & 0x7F
                if size == 126:
                    size = struct.unpack("!H", self.rfile.read(2))[0]
                elif size == 127:
                    size = struct.unpack("!Q", self.rfile.read(8))[0]
                mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(size)))
                if opcode == 0x8:  # close: answer it and stop
                    self._send(frame(0x8, payload[:2]))
                    break
                if opcode == 0x9:
                    self._send(frame(0xA, payload))
        except OSError:
            pass
        self.closed.set()
