"""Greetings for answering-machine detection on the real Asterisk, as raw mu-law (8 kHz, the
PCMU payload sipp's rtp_stream sends as is): a person says a short "hello" and waits, a
machine talks on. AMD() measures voice by frame energy against its silence threshold (256), so
a 400 Hz tone stands in for speech and zero samples for silence.

    files = {"human.pcmu": human_greeting(), "machine.pcmu": machine_greeting()}
    (pbx.sounds_dir / "autodialer" / "machine-message.sln").write_bytes(slin_tone(1.0))
"""

from __future__ import annotations

import math

RATE = 8000
_BIAS, _CLIP = 0x84, 32635


def ulaw(sample: int) -> int:
    """One signed 16-bit sample as G.711 mu-law (the classic encoder)."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), _CLIP) + _BIAS
    exponent = 7
    for bit in range(7, -1, -1):
        if magnitude & (1 << (bit + 7)):
            exponent = bit
            break
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def tone(seconds: float, *, hz: float = 400.0, level: int = 8000) -> bytes:
    return bytes(ulaw(int(level * math.sin(2 * math.pi * hz * n / RATE)))
                 for n in range(int(seconds * RATE)))


def silence(seconds: float) -> bytes:
    return bytes([ulaw(0)]) * int(seconds * RATE)


def slin_tone(seconds: float, *, hz: float = 600.0, level: int = 8000) -> bytes:
    """Asterisk's raw signed linear (.sln: 16-bit little-endian, 8 kHz), for a prompt it
    plays itself (the machine message)."""
    return b"".join(int(level * math.sin(2 * math.pi * hz * n / RATE)).to_bytes(
        2, "little", signed=True) for n in range(int(seconds * RATE)))


def human_greeting() -> bytes:
    """About 1 s of "hello", then silence: HUMAN once 800 ms of silence follow the greeting."""
    return tone(1.0) + silence(5.0)


def machine_greeting() -> bytes:
    """6 s of continuous "speech": MACHINE once the greeting passes 1500 ms."""
    return tone(6.0)
