"""Reading a lead CSV: encoding per line, header and mapping guesses (the delimiter guess is
csv_table.sniff_delimiter, shared with the extension and user imports), and one row
turned into a lead or an issue. Pure functions of the bytes: services/lead_import.py runs
them over a stored file, batch by batch.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from telephony.calling.numbers import NumberError, number_parse
from telephony.calling.zones import is_known_zone
from telephony.csvcells import restore
from telephony.services.campaign_errors import CampaignServiceError

FIELDS = ("phone", "first_name", "last_name", "timezone")
FIELD_LABELS = {"phone": "Phone number", "first_name": "First name", "last_name": "Last name",
                "timezone": "Time zone", "extra": "Keep as lead data", "skip": "Ignore"}
# Header names compared without case, accents, spaces or punctuation. Besides English, the
# names Excel users in the semicolon locales write (German, French, Spanish, Italian, Dutch,
# Portuguese): an unrecognised header is only a wrong guess the supervisor corrects, but a
# right one saves a step on every import.
_HEADER_NAMES = {
    "phone": {"phone", "phonenumber", "number", "telephone", "tel", "mobile", "cell",
              "phoneno", "msisdn", "e164", "telefon", "telefonnummer", "rufnummer", "handy",
              "portable", "numero", "telefono", "movil", "celular", "cellulare",
              "telefoon", "telefoonnummer", "mobiel", "telemovel"},
    "first_name": {"firstname", "first", "givenname", "forename", "name", "vorname", "prenom",
                   "nombre", "nome", "voornaam"},
    "last_name": {"lastname", "last", "surname", "familyname", "nachname", "familienname",
                  "nom", "nomdefamille", "apellido", "apellidos", "cognome", "achternaam",
                  "sobrenome", "apelido"},
    "timezone": {"timezone", "tz", "zone", "timezonename", "zeitzone", "fuseauhoraire",
                 "zonahoraria", "fusoorario", "tijdzone", "fusohorario"},
}
SNIFF_BYTES = 64 * 1024
MAX_NAME = 100
MAX_EXTRA = 500
MAX_COLUMNS = 50
TEMPLATE = ("phone,first_name,last_name,timezone,account_id\r\n"
            "+12125550100,Ada,Lovelace,,A-1001\r\n"
            "(213) 555-0199,Alan,Turing,America/Los_Angeles,A-1002\r\n")


def decode_line(raw: bytes) -> str:
    """UTF-8 when the line is UTF-8, else Windows-1252 (which Excel writes as "CSV"): a file
    whose rows come from two systems decodes row by row instead of failing half-way."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def decoded_lines(raw_lines: Iterable[bytes]) -> Iterator[str]:
    first = True
    for raw in raw_lines:
        if first:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
            first = False
        yield decode_line(raw)


def check_text(head: bytes) -> str:
    """Refuse what is not a text CSV; returns the encoding the head reads in."""
    if not head.strip():
        raise CampaignServiceError("The file is empty.")
    if b"\x00" in head:
        raise CampaignServiceError("This is not a CSV file: it contains binary data (save it "
                                   "from your spreadsheet as CSV).")
    text = head.removeprefix(b"\xef\xbb\xbf")
    try:
        text.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError as exc:
        # A cut multi-byte character at the end of the sniffed head is still UTF-8.
        encoding = "utf-8" if exc.start >= len(text) - 3 else "windows-1252"
    decoded = text.decode("utf-8" if encoding == "utf-8" else "cp1252", errors="replace")
    controls = sum(1 for char in decoded if ord(char) < 32 and char not in "\r\n\t")
    if controls > len(decoded) // 100:
        raise CampaignServiceError("This is not a CSV file: it contains binary data.")
    return encoding


def _key(name: str) -> str:
    """"Prénom", "PRENOM" and "pre-nom" alike: accents dropped, then letters and digits."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def _looks_like_number(cell: str) -> bool:
    digits = sum(char.isdigit() for char in cell)
    return digits >= 7 and digits >= len(cell.strip()) * 0.6


def guess_header(first_row: list[str]) -> bool:
    return not any(_looks_like_number(cell) for cell in first_row)


def guess_mapping(header: list[str] | None, sample: list[list[str]]) -> dict:
    """{"phone": index, ..., "extra": [indexes]} from header names, else from the values."""
    mapping: dict = {"extra": []}
    width = max([len(header or [])] + [len(row) for row in sample])
    for index in range(width):
        name = _key(header[index]) if header and index < len(header) else ""
        field_name = next((f for f, names in _HEADER_NAMES.items()
                           if name in names and f not in mapping), None)
        if field_name:
            mapping[field_name] = index
        elif header:
            mapping["extra"].append(index)
    if "phone" not in mapping:
        scores = [sum(1 for row in sample if index < len(row) and _looks_like_number(row[index]))
                  for index in range(width)]
        if scores and max(scores) > 0:
            mapping["phone"] = scores.index(max(scores))
            if mapping["phone"] in mapping["extra"]:
                mapping["extra"].remove(mapping["phone"])
    return mapping


def mapping_validate(mapping: dict, width: int) -> dict:
    """A clean mapping, or CampaignServiceError naming what is wrong."""
    clean: dict = {"extra": []}
    used: set[int] = set()
    for name in FIELDS:
        index = mapping.get(name)
        if index is None or index == "":
            continue
        if not isinstance(index, int) or not 0 <= index < width:
            raise CampaignServiceError(f"The column for {FIELD_LABELS[name]} does not exist.")
        if index in used:
            raise CampaignServiceError("Each column can be mapped to one field only.")
        used.add(index)
        clean[name] = index
    for index in mapping.get("extra", []):
        if isinstance(index, int) and 0 <= index < width and index not in used:
            clean["extra"].append(index)
            used.add(index)
    if "phone" not in clean:
        raise CampaignServiceError("Choose the column that holds the phone numbers: the file "
                                   "has no column recognised as a phone number.")
    return clean


@dataclass
class RowResult:
    line: int
    e164: str = ""
    fields: dict = field(default_factory=dict)
    reason: str = ""  # set when rejected
    value: str = ""


def row_read(cells: list[str], *, line: int, mapping: dict, header: list[str] | None,
             region: str, default_zone: str) -> RowResult:
    """One CSV row as the fields of a lead, or the reason it is rejected."""
    def cell(name: str) -> str:
        index = mapping.get(name)
        return restore(cells[index].strip()) if index is not None and index < len(cells) else ""

    raw = cell("phone")
    if not raw:
        return RowResult(line, reason="No phone number.", value="")
    try:
        parsed = number_parse(raw, region=region)
    except NumberError as exc:
        return RowResult(line, reason=str(exc), value=raw[:200])
    first, last = cell("first_name"), cell("last_name")
    for label, value in (("first name", first), ("last name", last)):
        if len(value) > MAX_NAME:
            return RowResult(line, reason=f"The {label} is longer than {MAX_NAME} characters.",
                             value=value[:200])
    zone = cell("timezone")
    guessed = False
    if zone:
        if not is_known_zone(zone):
            return RowResult(line, reason=f"Unknown time zone {zone!r} (use a name like "
                                          f"America/Chicago).", value=zone[:200])
    elif len(parsed.zones) == 1:
        zone = parsed.zones[0]
    else:
        # Several zones (a toll-free or non-geographic number) or none known: the campaign's
        # default, flagged so the supervisor can see which leads it applies to.
        zone, guessed = default_zone, True
    data = {}
    for index in mapping.get("extra", []):
        if index < len(cells) and cells[index].strip():
            key = (header[index].strip() if header and index < len(header)
                   and header[index].strip() else f"column {index + 1}")[:60]
            data[key] = restore(cells[index].strip())[:MAX_EXTRA]
    return RowResult(line, e164=parsed.e164, fields={
        "first_name": first, "last_name": last, "timezone": zone, "timezone_guessed": guessed,
        "line_type": parsed.line_type, "data": data})
