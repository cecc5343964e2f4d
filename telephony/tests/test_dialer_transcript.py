"""The dialer's event handling on the frames a real Asterisk 22.10.1 sent
(fakes/transcripts/ari_stasis_local.txt: Local channels originated into Stasis)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from telephony.asterisk.ari import AriClient
from telephony.dialer.events import event_wanted, handle_event
from telephony.models import DialAttempt
from telephony.services.asterisk import ari_config_for
from telephony.tests.call_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db
TRANSCRIPT = Path(__file__).parent / "fakes" / "transcripts" / "ari_stasis_local.txt"
ANSWERED = uuid.UUID("e7648cba-bd87-4885-813f-b948315cf9f4")
BUSY = uuid.UUID("5715b613-bd59-4a17-95dd-db5c2e0273dd")
RANG_OUT = uuid.UUID("c70e9eb3-f265-46fb-aaab-308a3ed93922")
HUNG_UP_BY_US = uuid.UUID("ebb14ba1-aa75-47e6-9b89-cf0d056d8544")


def recorded_events() -> list[dict]:
    lines = TRANSCRIPT.read_text().split("## EVENTS", 1)[1].splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_only_our_legs_events_are_wanted():
    wanted = [e for e in recorded_events() if event_wanted(e)]
    assert {e["type"] for e in wanted} == {"StasisStart", "ChannelStateChange", "Dial",
                                           "ChannelDestroyed"}
    # the ";2" halves of the Local channels are not ours
    assert all(";" not in (e.get("channel") or e.get("peer"))["id"] for e in wanted)


def test_the_recorded_calls_end_with_the_right_outcomes(server):
    created = timezone.now() - timedelta(seconds=5)
    for attempt_id in (ANSWERED, BUSY, RANG_OUT, HUNG_UP_BY_US):
        DialAttempt.objects.create(id=attempt_id, campaign_id=1, phone_number="+15555550101",
                                   server_id=server.pk, created_at=created)
    with AriClient(ari_config_for(server)) as client:
        for event in recorded_events():
            handle_event(server, event, client)
    outcome = {a.pk: a for a in DialAttempt.objects.all()}
    # answered with no agent in session: waited, then hung up (the far end) -> abandoned
    assert outcome[ANSWERED].status == "abandoned" and outcome[ANSWERED].abandoned
    assert outcome[ANSWERED].answered_at is not None
    # the Local leg ended with cause 0 "Unknown": the Dial event's BUSY decides
    assert (outcome[BUSY].status, outcome[BUSY].hangup_cause) == ("busy", 0)
    assert (outcome[RANG_OUT].status, outcome[RANG_OUT].hangup_cause) == ("no_answer", 19)
    assert outcome[HUNG_UP_BY_US].status == "abandoned"
    assert all(a.closed_at is not None for a in outcome.values())
