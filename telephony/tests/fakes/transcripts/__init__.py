"""Real AMI wire transcripts captured on Asterisk 22.10.1 (copied from
../shared/asterisk/transcripts/), and a reader that turns what Asterisk sent into the event
dicts our listener hands to handle_event.

The captures used their own ActionIDs and a DJANGO_CALL_ID variable; `events()` can rename
those to ours, so a replay finds the Call the way production does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def events(name: str, *, action_id: str, call_id: str, variable: str = "DJANGO_CALL_ID",
           as_variable: str = "AUTODIALER_CALL_ID") -> list[dict[str, Any]]:
    """The events (not responses) Asterisk sent in transcript `name`, in order, that belong to
    the action `action_id` or to channels: OriginateResponse of other actions is left out.
    `action_id` and the value of `variable` become `call_id`; `variable` becomes `as_variable`.
    """
    found: list[dict[str, Any]] = []
    receiving = False
    for block in _blocks(HERE / name):
        if block[0].startswith("### "):
            receiving = block[0].startswith("### <<< RECEIVED")
            block = block[1:]
        if not receiving or not block or not block[0].startswith("Event: "):
            continue
        event: dict[str, Any] = {}
        for line in block:
            key, _, value = line.partition(": ")
            event[key] = value
        if "ActionID" in event:
            if event["ActionID"] != action_id:
                continue
            event["ActionID"] = call_id
        if event.get("Event") == "VarSet" and event.get("Variable") == variable:
            event["Variable"], event["Value"] = as_variable, call_id
        found.append(event)
    return found


def _blocks(path: Path) -> list[list[str]]:
    """Lines grouped by blank lines; a '### ...' marker line starts a group of its own."""
    groups: list[list[str]] = [[]]
    for line in path.read_text().splitlines():
        if line.startswith("### "):
            groups.append([line])
        elif line.strip():
            groups[-1].append(line)
        else:
            groups.append([])
    return [group for group in groups if group]
