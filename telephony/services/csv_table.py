"""A small CSV file read whole, the first line naming its columns: what the extension and the
user imports share (the lead import streams big files and maps columns instead, but the
delimiter guess is the same one, `sniff_delimiter`).

Spreadsheets write a UTF-8 BOM, and in the locales where the decimal separator is a comma
Excel puts `;` between cells; tab-separated text comes from copying a sheet. All three are
recognised, so a European admin's file is not "one unknown column".

A file is refused as a whole (`CsvRefused`) only for what stops it being read: too big, not
UTF-8, no header, missing or unknown columns. Everything wrong with a row is a `Problem` of its
line, so an import reports every bad row in one round and can still write the good ones.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.utils.crypto import salted_hmac

from telephony.csvcells import restore
from telephony.services.errors import ServiceError

BOM = b"\xef\xbb\xbf"
SNIFF_LINES = 20
SHOWN_VALUE = 80  # characters of a bad value echoed in the report


def sniff_delimiter(sample_lines: list[str]) -> str:
    """`,` `;` or tab: whichever splits the first lines into the same number (> 1) of cells."""
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t", "|"):
        widths = [len(row) for row in csv.reader(sample_lines, delimiter=delimiter) if row]
        if not widths or max(widths) < 2:
            continue
        score = widths.count(widths[0]) * 10 + widths[0]
        if score > best_score:
            best, best_score = delimiter, score
    return best


def shown(value: str) -> str:
    """A cell as the report echoes it: line breaks and other control characters visible,
    long values cut."""
    visible = "".join(char if ord(char) >= 32 else repr(char)[1:-1] for char in value)
    return visible if len(visible) <= SHOWN_VALUE else visible[:SHOWN_VALUE - 1] + "…"


@dataclass(frozen=True)
class Problem:
    """What is wrong with one row (line None: the file)."""

    line: int | None
    column: str
    value: str
    reason: str


class CsvRefused(ServiceError):
    """The file cannot be read as an import: `problems` says why (nothing was written)."""

    code = "csv_refused"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"line {p.line}: {p.reason}" if p.line else p.reason
                                   for p in problems), field="file")


@dataclass
class Row:
    line: int  # where the row starts (a quoted cell may span lines)
    cells: dict[str, str]
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Table:
    header: list[str]
    delimiter: str
    rows: list[Row]


def table_read(data: bytes, *, columns: list[str], required: tuple[str, ...],
               max_bytes: int, max_rows: int, raw_columns: tuple[str, ...] = ()) -> Table:
    """The rows of a CSV file as {column: stripped cell}; `raw_columns` keep their spaces
    (a secret). Raises CsvRefused for a file that cannot be read as these columns."""
    if len(data) > max_bytes:
        raise CsvRefused([Problem(None, "", "", (
            f"The file is {len(data) / 1024 / 1024:.1f} MB; the limit is "
            f"{max_bytes / 1024 / 1024:.0f} MB ({max_rows:,} rows). Split it into several "
            "files."))])
    try:
        text = data.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CsvRefused([Problem(None, "", "", (
            "The file is not UTF-8 text (save it as CSV UTF-8); bad byte at position "
            f"{exc.start}."))]) from None
    delimiter = sniff_delimiter(text.splitlines()[:SNIFF_LINES])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        first = next(reader, None)
    except csv.Error as exc:
        raise CsvRefused([Problem(1, "", "", f"unreadable CSV: {exc}.")]) from None
    header = [name.strip().lower() for name in first or []]
    if not any(header):
        raise CsvRefused([Problem(None, "", "", (
            f"The file is empty: the first line must name the columns ({', '.join(columns)})."
        ))])
    problems = _header_problems(header, columns, required)
    if problems:
        raise CsvRefused(problems)
    rows: list[Row] = []
    start = reader.line_num + 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(rows) >= max_rows:
                raise CsvRefused([Problem(None, "", "", (
                    f"The file has more than {max_rows:,} rows; split it into several "
                    "files."))])
            rows.append(_row(line, header, cells, raw_columns))
    except csv.Error as exc:
        raise CsvRefused([Problem(reader.line_num, "", "", f"unreadable CSV: {exc}.")]) from None
    if not rows:
        raise CsvRefused([Problem(None, "", "", "The file has a header but no rows.")])
    return Table(header=header, delimiter=delimiter, rows=rows)


def _header_problems(header: list[str], columns: list[str],
                     required: tuple[str, ...]) -> list[Problem]:
    problems = []
    missing = [name for name in required if name not in header]
    if missing:
        problems.append(Problem(1, "", ", ".join(missing), (
            f"missing column(s): {', '.join(missing)}. Required: {', '.join(required)}; "
            f"optional: {', '.join(c for c in columns if c not in required)}.")))
    unknown = [name for name in header if name not in columns]
    if unknown:
        problems.append(Problem(1, "", shown(", ".join(unknown)),
                                f"unknown column(s): {', '.join(unknown)}."))
    if len(set(header)) != len(header):
        problems.append(Problem(1, "", "", "a column appears twice."))
    return problems


def _row(line: int, header: list[str], cells: list[str], raw_columns: tuple[str, ...]) -> Row:
    row = Row(line=line, cells={})
    if len(cells) > len(header):
        row.problems.append(Problem(line, "", shown(", ".join(cells[len(header):])),
                                    "more cells than columns."))
    for name, cell in zip(header, cells + [""] * (len(header) - len(cells)), strict=False):
        if "\r" in cell or "\n" in cell:
            # A quoted cell may hold a line break; no value we import can carry one.
            row.problems.append(Problem(line, name, shown(cell),
                                        f"{name}: a line break inside a cell."))
        # The exports defuse every cell (csvcells); the raw ones (a secret may start with '-'
        # or end with a space) keep their spaces.
        row.cells[name] = restore(cell) if name in raw_columns else restore(cell.strip())
    return row


@dataclass
class ImportPlan:
    """What a confirmed import will write: counted for the dry run, fingerprinted so the
    confirmation writes exactly what the admin saw."""

    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    delimiter: str = ","
    fingerprint: str = ""
    # line -> what the row writes (the facts sealed), for the rows created or updated: the
    # background job re-checks its batches against them.
    line_facts: dict = field(default_factory=dict)
    # line -> keys tying rows that must be written in the same batch (an agent moving from
    # one extension to another: the one they leave must be written with the one they take).
    ties: dict = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return len({problem.line for problem in self.problems})

    @property
    def writes(self) -> int:
        return len(self.created) + len(self.updated)

    def summary(self) -> str:
        text = f"{len(self.created)} new, {len(self.updated)} updated"
        if self.unchanged:
            text += f", {len(self.unchanged)} unchanged"
        return text + f", {self.rejected} rejected"

    def seal(self, facts: list) -> None:
        """Fingerprint the plan from `facts` (every value it would write, in a stable order)."""
        # Keyed: the facts may hold secrets, and the fingerprint goes into the page.
        self.fingerprint = salted_hmac("autodialer.csv_table.ImportPlan", repr(
            (facts, sorted({p.line for p in self.problems})))).hexdigest()


class PlanChanged(ServiceError):
    """The data changed between the dry run and the confirmation: nothing was written."""

    code = "import_changed"

    def __init__(self, plan: ImportPlan) -> None:
        self.plan = plan
        super().__init__("Something changed since the dry run (another admin, or the file); "
                         "nothing was written. Check the new summary and confirm again.")
