"""Rules for the values we hand Asterisk, known without our database: SIP secrets, caller-ID
text, codec names and the characters its realtime driver cannot store.

Pure functions and constants only (no Django ORM, no models): the forms, the models' `clean()`
and the row code in `telephony/realtime/` all ask these, so each rule is stated once. Why the
rules are what they are: docs/asterisk-behaviour.md.
"""

from __future__ import annotations

import secrets
import string

# Letters and digits only: nothing res_config_odbc treats specially (';', '^'), nothing a
# softphone's settings screen or a CSV cell would mangle.
SECRET_ALPHABET = string.ascii_letters + string.digits
GENERATED_SECRET_LENGTH = 24
MIN_TYPED_SECRET_LENGTH = 12
MAX_SECRET_LENGTH = 64

# res_config_odbc splits every value on ';' and decodes '^XX' as hex.
ODBC_SPECIAL = frozenset(";^")
# Characters Asterisk's ODBC layer or a SIP header cannot carry in a realtime value.
FORBIDDEN_IN_VALUES = (";", "^", "\r", "\n")
# The ast_bool_values Asterisk reads as true (it compares them case-insensitively).
AST_TRUE = frozenset({"yes", "true", "on", "1"})

CALLERID_WIDTH = 40  # ps_endpoints.callerid varchar(40)

# Asterisk's own codec names (`core show codecs`), the ones a softphone or trunk commonly offers.
CODEC_CHOICES = [
    ("ulaw", "G.711 µ-law (ulaw)"),
    ("alaw", "G.711 A-law (alaw)"),
    ("g722", "G.722 wideband (g722)"),
    ("g729", "G.729 (g729)"),
    ("gsm", "GSM (gsm)"),
    ("opus", "Opus (opus)"),
    ("ilbc", "iLBC (ilbc)"),
    ("speex", "Speex (speex)"),
    ("g726", "G.726 (g726)"),
    ("slin", "Signed linear 8 kHz (slin)"),
    ("h264", "H.264 video (h264)"),
    ("vp8", "VP8 video (vp8)"),
]
CODEC_NAMES = frozenset(name for name, _label in CODEC_CHOICES)


def secret_generate() -> str:
    """A random SIP password: 24 characters from letters and digits (about 142 bits)."""
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(GENERATED_SECRET_LENGTH))


def secret_problem(secret: str) -> str | None:
    """Why an admin-typed secret cannot be used, or None when it can."""
    if len(secret) < MIN_TYPED_SECRET_LENGTH:
        return f"The secret must be at least {MIN_TYPED_SECRET_LENGTH} characters long."
    if len(secret) > MAX_SECRET_LENGTH:
        return f"The secret must be at most {MAX_SECRET_LENGTH} characters long."
    if any(ch in secret for ch in ODBC_SPECIAL):
        return ("The secret cannot contain ';' or '^': Asterisk's ODBC layer treats them as "
                "separators and escapes, so the phone would never authenticate.")
    if any(ch.isspace() for ch in secret):
        return "The secret cannot contain spaces, tabs or line breaks."
    if not secret.isascii() or not secret.isprintable():
        return "The secret must be printable ASCII (no accented or control characters)."
    return None


def format_callerid(name: str, number: str) -> str | None:
    """The endpoint's `callerid` column: `"Name" <number>`, or NULL when neither is set."""
    if not name and not number:
        return None
    if not number:
        return f'"{name}"'
    if not name:
        return f"<{number}>"
    return f'"{name}" <{number}>'


def callerid_problem(name: str, number: str) -> str | None:
    """Why the name and number do not fit the callerid column together, or None."""
    callerid = format_callerid(name, number) or ""
    if len(callerid) <= CALLERID_WIDTH:
        return None
    room = CALLERID_WIDTH - len(callerid) + len(name)
    return (f"With the number, the caller ID {callerid} is {len(callerid)} characters; "
            f"Asterisk's column holds {CALLERID_WIDTH}. Shorten the name to {max(room, 0)} "
            f"characters.")


def codecs_problem(codecs: list[str]) -> str | None:
    """Why a list of codec names cannot go into an `allow` column, or None."""
    unknown = [codec for codec in codecs if codec not in CODEC_NAMES]
    if unknown:
        return (f"Unknown codec {', '.join(unknown)}; use Asterisk codec names: "
                f"{', '.join(sorted(CODEC_NAMES))}.")
    if not codecs:
        return "Choose at least one codec."
    return None


def has_forbidden_characters(value: str) -> bool:
    """True when the value holds ';', '^' or a line break (which a realtime value cannot)."""
    return any(ch in value for ch in FORBIDDEN_IN_VALUES)
