r"""Validators for values that end up in Asterisk: its config syntax, AMI frames and
realtime rows. AMI is a line protocol and res_config_odbc treats `;` and `^` as special,
so anything that could split a line or a value is refused here, at the edge.

Every pattern ends in `\Z`, never `$`: `$` also matches before a final newline, so
`^[\x21-\x7e]*$` accepted "secret\n" (test_validators.py tries each with a trailing newline).
"""

import ipaddress
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

extension_validator = RegexValidator(
    r"^[0-9]{2,15}\Z", "An extension is 2 to 15 digits, nothing else (no letters, spaces or signs)."
)
# Context and object names: what Asterisk accepts in a [section] and a sorcery id, lower risk.
context_name_validator = RegexValidator(
    r"^[A-Za-z0-9_-]{1,40}\Z", "Use 1 to 40 letters, digits, '_' or '-' (no spaces or ';')."
)
# Printable ASCII without the characters that break AMI frames, dial strings or ODBC values.
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9 ._@'()+\-#*:/]*\Z")
safe_text_validator = RegexValidator(
    _SAFE_TEXT,
    "Use letters, digits, spaces and . _ @ ' ( ) + - # * : / only "
    "(no line breaks, ';', ',', quotes '\"', '^', '|', '&' or accented characters).",
)
caller_id_name_validator = RegexValidator(
    r"^[A-Za-z0-9 ._'()+\-]{0,40}\Z",
    "A caller ID name is up to 40 letters, digits, spaces and . _ ' ( ) + - "
    "(no line breaks, ';', ',', '\"', '<', '>' or accented characters).",
)
# A sound as Asterisk's Playback() and ARI's "sound:" take it: a name relative to its sounds
# directory, without extension; no "..", no absolute path, nothing that splits an argument.
sound_name_validator = RegexValidator(
    r"^[A-Za-z0-9_-]{1,60}(?:/[A-Za-z0-9_-]{1,60}){0,3}\Z",
    "A sound name is letters, digits, '_' or '-', in at most four '/'-separated parts, "
    "without extension (e.g. vm-goodbye or autodialer/machine-message).",
)
# Empty, or digits with an optional leading '+': '+' alone is not a number.
caller_id_number_validator = RegexValidator(
    r"^(?:\+?[0-9]{1,20})?\Z", "A caller ID number is digits with an optional leading '+'."
)
# E.164: '+', a country code that does not start with 0, at most 15 digits in all.
e164_validator = RegexValidator(
    r"^\+[1-9][0-9]{6,14}\Z",
    "Use the international form: '+', the country code and the number, digits only "
    "(e.g. +15551234567).",
)
# Added in front of a dialled number: digits, optionally starting with '+' (which may be all).
dial_prefix_validator = RegexValidator(
    r"^\+?[0-9]{0,9}\Z", "A dial prefix is digits with an optional leading '+'."
)
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")


def hostname_validator(value: str) -> None:
    """A host name (RFC 1123 labels, a top label that is not all digits), an IPv4 address,
    or an IPv6 address bare or in brackets. No port, scheme, user or spaces."""
    message = ("Enter a host name or an IP address (no spaces, ports or schemes), e.g. "
               "sip.example.com, 192.0.2.10 or 2001:db8::10.")
    text = value or ""
    if text.startswith("[") or text.endswith("]") or ":" in text:
        inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
        try:
            ipaddress.IPv6Address(inner)
        except ValueError:
            raise ValidationError(message, code="invalid") from None
        return
    labels = text.split(".")
    if len(text) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise ValidationError(message, code="invalid")
    if labels[-1].isdigit():  # dotted digits are an IPv4 address or nothing (999.999.999.999)
        try:
            ipaddress.IPv4Address(text)
        except ValueError:
            raise ValidationError(message, code="invalid") from None


# RFC 3261 user parts allow more (escapes, & = $ , ; ? /), but those are what dial strings,
# AMI and realtime values split on: the trunk user is letters, digits and . _ - + only.
sip_user_validator = RegexValidator(
    r"^[A-Za-z0-9._+-]*\Z",
    "Use letters, digits and . _ - + only: no spaces, '@', ':', ';', '^', ',', '&', "
    "percent signs or quotes.",
)
# res_config_odbc splits realtime values on ';' and decodes '^XX' (docs/asterisk-behaviour.md):
# 'se;cret' is stored whole and read back as 'cret'.
odbc_value_validator = RegexValidator(
    r"^[^;^\r\n\x00]*\Z",
    "Cannot contain ';', '^' or a line break: Asterisk's realtime driver would cut or decode it.",
)
credential_validator = RegexValidator(
    r"^[\x21-\x7e]*\Z",
    "Use printable ASCII without spaces or line breaks.",
)


# Names people read (an extension's name, its caller ID name): Asterisk carries UTF-8 in caller
# ID names, so letters and digits of any script are allowed ("Jürgen Müller", "Łukasz", "王芳").
# An allowlist still: Unicode letters, marks and digits, the space and this punctuation. It leaves
# out what breaks a value on its way: control characters and line breaks (AMI is a line
# protocol), ';' and '^' (res_config_odbc cuts and decodes them), '"', '<', '>' and '\\' (the
# `"Name" <number>` caller ID syntax), ',', '|' and '&' (dial-string separators).
_DISPLAY_NAME_PUNCTUATION = frozenset(" ._@'()+-#*:/!?")
DISPLAY_NAME_RULE = ("letters of any language, digits, spaces and . _ @ ' ( ) + - # * : / ! ? "
                     "(no line breaks, ';', '^', ',', '\"', '<', '>', '|' or '&')")


def display_name_problem(value: str) -> str | None:
    for char in value:
        if char in _DISPLAY_NAME_PUNCTUATION or unicodedata.category(char)[0] in "LMN":
            continue
        shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
        return f"{shown} cannot be in a name: use {DISPLAY_NAME_RULE}."
    return None


def display_name_validator(value: str) -> None:
    if problem := display_name_problem(value):
        raise ValidationError(problem, code="invalid")


def timezone_validator(value: str) -> None:
    """An IANA time zone name this machine's zone database knows (e.g. America/Chicago)."""
    from telephony.calling.zones import is_known_zone

    if not is_known_zone(value):
        raise ValidationError(f"{value!r} is not a known time zone (use a name like "
                              f"America/Chicago or Europe/London).")
