"""Validators for values that end up in Asterisk: its config syntax, AMI frames and
realtime rows. AMI is a line protocol and res_config_odbc treats `;` and `^` as special,
so anything that could split a line or a value is refused here, at the edge."""

import re

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
hostname_validator = RegexValidator(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?)*$|^[0-9]{1,3}(\.[0-9]{1,3}){3}$|^\[?[0-9A-Fa-f:]+\]?$",
    "Enter a host name or an IP address (no spaces, ports or schemes).",
)
# res_config_odbc splits realtime values on ';' and decodes '^XX' (FACTS.md): 'se;cret' is
# stored whole and read back as 'cret'.
odbc_value_validator = RegexValidator(
    r"^[^;^\r\n]*$",
    "Cannot contain ';', '^' or a line break: Asterisk's realtime driver would cut or decode it.",
)
credential_validator = RegexValidator(
    r"^[\x21-\x7e]*$",
    "Use printable ASCII without spaces or line breaks.",
)
