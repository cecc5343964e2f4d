"""Jurisdiction presets: starting values for a `CallingRules` row, which an admin then adjusts.

These are summaries for configuring a dialer, not legal advice; each names its source.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    source: str
    weekdays: str = "1234567"
    start_time: datetime.time = datetime.time(8, 0)
    end_time: datetime.time = datetime.time(21, 0)
    max_attempts_per_24h: int | None = None
    min_ring_seconds: int = 15
    max_abandon_percent: Decimal = Decimal("3.00")
    abandon_window: str = "30d"
    information_message_required: bool = False
    amd_redial_block_hours: int = 0

    def as_fields(self) -> dict:
        return {
            "preset": self.key, "description": self.source, "weekdays": self.weekdays,
            "start_time": self.start_time, "end_time": self.end_time,
            "max_attempts_per_24h": self.max_attempts_per_24h,
            "min_ring_seconds": self.min_ring_seconds,
            "max_abandon_percent": self.max_abandon_percent,
            "abandon_window": self.abandon_window,
            "information_message_required": self.information_message_required,
            "amd_redial_block_hours": self.amd_redial_block_hours,
        }


US_FEDERAL = Preset(
    key="us_federal", name="US federal (TSR / TCPA)",
    source="US Telemarketing Sales Rule, 16 CFR 310.4(b)(1)(iv) and (b)(4) (calls between "
           "8 a.m. and 9 p.m. at the called person's location; abandoned calls at most 3 % "
           "of answered calls per campaign over 30 days; ring at least 15 seconds or four "
           "rings; a recorded message within 2 seconds of the greeting), and 47 CFR "
           "64.1200(c)(1) (the same calling hours under the TCPA).",
    information_message_required=True,
)
UK_OFCOM = Preset(
    key="uk_ofcom", name="UK Ofcom (persistent misuse)",
    source="Ofcom's statement of policy on the persistent misuse of an electronic "
           "communications network or service (2016): abandoned calls at most 3 % of live "
           "calls per campaign per 24 hours; an information message on every abandoned call; "
           "a call abandoned as an answering machine detection may not be repeated within 72 "
           "hours unless an agent is guaranteed; ring at least 15 seconds.",
    abandon_window="24h", information_message_required=True, amd_redial_block_hours=72,
)
US_FLORIDA = Preset(
    key="us_fl", name="US Florida (FTSA, stricter)",
    source="Florida Telephone Solicitation Act, Fla. Stat. 501.059(8) as amended in 2021: "
           "commercial solicitation calls only between 8 a.m. and 8 p.m. in the called "
           "person's time zone, and no more than 3 calls to one person on the same subject "
           "within 24 hours. The federal limits apply as well.",
    end_time=datetime.time(20, 0), max_attempts_per_24h=3, information_message_required=True,
)

PRESETS = {preset.key: preset for preset in (US_FEDERAL, UK_OFCOM, US_FLORIDA)}
