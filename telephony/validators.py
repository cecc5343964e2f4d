"""Validators for values that end up in Asterisk: its config syntax, AMI frames and
realtime rows. AMI is a line protocol and res_config_odbc treats `;` and `^` as special,
so anything that could split a line or a value is refused here, at the edge."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

extension_validator = RegexValidator(
    r"^[0-9]{2,15}$", "An extension is 2 to 15 digits, nothing else (no letters, spaces or signs)."
)
# Context and object names: what Asterisk accepts in a [section] and a sorcery id, lower risk.
context_name_validator = RegexValidator(
    r"^[A-Za-z0-9_-]{1,40}$", "Use 1 to 40 letters, digits, '_' or '-' (no spaces or ';')."
)
# Printable ASCII without the characters that break AMI frames, dial strings or ODBC values.
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9 ._@'()+\-#*:/]*$")
safe_text_validator = RegexValidator(
    _SAFE_TEXT,
    "Use letters, digits, spaces and . _ @ ' ( ) + - # * : / only "
    "(no line breaks, ';', ',', quotes '\"', '^', '|', '&' or accented characters).",
)
caller_id_name_validator = RegexValidator(
    r"^[A-Za-z0-9 ._'()+\-]{0,40}$",
    "A caller ID name is up to 40 letters, digits, spaces and . _ ' ( ) + - "
    "(no line breaks, ';', ',', '\"', '<', '>' or accented characters).",
)
caller_id_number_validator = RegexValidator(
    r"^\+?[0-9]{0,20}$", "A caller ID number is digits with an optional leading '+'."
)
# E.164: '+', a country code that does not start with 0, at most 15 digits in all.
e164_validator = RegexValidator(
    r"^\+[1-9][0-9]{6,14}$",
    "Use the international form: '+', the country code and the number, digits only "
    "(e.g. +15551234567).",
)
hostname_validator = RegexValidator(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?)*$|^[0-9]{1,3}(\.[0-9]{1,3}){3}$|^\[?[0-9A-Fa-f:]+\]?$",
    "Enter a host name or an IP address (no spaces, ports or schemes).",
)
# res_config_odbc splits realtime values on ';' and decodes '^XX' (docs/asterisk-behaviour.md):
# 'se;cret' is stored whole and read back as 'cret'.
odbc_value_validator = RegexValidator(
    r"^[^;^\r\n]*$",
    "Cannot contain ';', '^' or a line break: Asterisk's realtime driver would cut or decode it.",
)
credential_validator = RegexValidator(
    r"^[\x21-\x7e]*$",
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
