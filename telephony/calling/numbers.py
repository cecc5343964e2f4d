"""Reading a lead's (or a DNC entry's) phone number: E.164, line type and time zone.

Stricter than a typed number: the number must be *valid* for its country (libphonenumber's
metadata), because a list of 100,000 numbers with typos is better cleaned before dialling.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as number_zones

# What a number cell may hold; letters ("555-CALL-NOW") are refused, not read as a keypad.
_NUMBER_CHARS = frozenset("0123456789+ ()-./")
MAX_LENGTH = 40

LINE_TYPES = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}


class NumberError(ValueError):
    """Why a cell is not a number we can call (the message is shown to the supervisor)."""


@dataclass(frozen=True)
class ParsedNumber:
    e164: str
    line_type: str  # "" when the metadata does not know
    zones: tuple[str, ...]  # IANA zones the number's prefix covers; () when unknown


def number_parse(raw: str, *, region: str, with_details: bool = True) -> ParsedNumber:
    text = raw.strip()
    if not text:
        raise NumberError("The phone number is empty.")
    if len(text) > MAX_LENGTH:
        raise NumberError(f"The phone number is longer than {MAX_LENGTH} characters.")
    if not set(text) <= _NUMBER_CHARS:
        if any(char.isalpha() for char in text):
            raise NumberError("The phone number contains letters.")
        raise NumberError("The phone number may only contain digits, a leading +, spaces, "
                          "dashes, dots, slashes and brackets.")
    if "+" in text[1:]:
        raise NumberError("The phone number may have a + only at the start.")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise NumberError("The phone number cannot be read.") from None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible == phonenumbers.ValidationResult.INVALID_COUNTRY_CODE:
        raise NumberError("The phone number has an unknown country code.")
    if possible == phonenumbers.ValidationResult.TOO_SHORT:
        raise NumberError("The phone number has too few digits.")
    if possible in (phonenumbers.ValidationResult.TOO_LONG,
                    phonenumbers.ValidationResult.INVALID_LENGTH):
        hint = (" Write international numbers with + (e.g. +49...)."
                if text.startswith("00") else "")
        raise NumberError(f"The phone number has the wrong number of digits for its "
                          f"country.{hint}")
    # number_type() finds the number's region by matching it against every region of its
    # country code (about 25 for +1), which is most of the cost of a lead import. It is UNKNOWN
    # exactly when is_valid_number() is False, and time_zones_for_number() would call it again,
    # so it is computed once here and the zones are looked up from it.
    line_type = phonenumbers.number_type(number)
    if line_type == PhoneNumberType.UNKNOWN:
        raise NumberError("The phone number does not exist in its country's numbering plan.")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not with_details:
        return ParsedNumber(e164, "", ())
    if phonenumbers.is_number_type_geographical(line_type, number.country_code):
        found = number_zones.time_zones_for_geographical_number(number)
    else:
        found = number_zones.time_zones_for_number(number)  # the country's zones
    zones = tuple(zone for zone in found if zone != "Etc/Unknown")
    return ParsedNumber(e164, LINE_TYPES.get(line_type, ""), zones)
