"""Hostile input to every call-control endpoint: at least 200 values each, and the fake AMI
must receive not one byte (nothing is even connected to it)."""

from __future__ import annotations

import itertools
import uuid

import pytest
from django.urls import reverse

from telephony.models import Call, Campaign
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.call_fixtures import answered_call, make_call, post_json

pytestmark = pytest.mark.django_db

# Characters that could split an AMI frame, reach a shell or dial string, or smuggle a
# second destination, plus look-alike digits and letters.
BAD_CHARS = ["\r", "\n", "\r\n", "\0", "&", ",", "|", "/", "@", ";", "^", "'", '"', "<", ">",
             "$", "{", "}", "[", "]", "\t", "\\", "%", "=", ":", "!", "?", "*", "#", "~", "`",
             "a", "Z", "x", "é", "٣", "５", "\u200b", "\u202e", "\x7f"]
TEMPLATES = ["5551234567{}", "{}5551234567", "555{}1234567", "+1 555 123{}4567", "1002{}",
             "+44{}2079460958"]
PAYLOADS = [
    "5551234567\r\nAction: Originate\r\nChannel: PJSIP/9999",
    "5551234567\r\n\r\nAction: Hangup\r\nChannel: PJSIP/1002-00000001",
    "5551234\nVariable: X=1", "Local/5551234@agents", "PJSIP/1002", "1002&PJSIP/1003",
    "5551234567,30", "5551234567|30", "${SHELL}", "$(reboot)", "`id`", "1-800-FLOWERS",
    "+1 (555) CALL-NOW", "5551234567@evil.example", "sip:5551234567@10.0.0.1",
    "123456789012345678901", "+123456789012345678901234", "9" * 21, "1" * 200, "x" * 10_000,
    "+", "++15551234567", "+1+5551234567", "", " ", "   ", "()", "--", "...", "+()",
    "+999 1234 5678", "+0 555 123 4567", "1", "0", "12", "911911911911911911911x",
    "5551234567\x00", "\x005551234567", "%0d%0aAction: Originate", "5551234567%0A",
    "+1 555 123 4567 ext. 89", "tel:+15551234567", "\u0665\u0665\u0665\u0661\u0662\u0663",
    "５５５１２３４５６７", " 555-123-4567\n",
]
NOT_STRINGS = [None, 5551234567, 1.5, True, False, [], ["5551234567"], {"n": "5551234567"},
               -1, 0]


def hostile_strings() -> list[str]:
    generated = [template.format(char) for template, char in
                 itertools.product(TEMPLATES, BAD_CHARS)]
    return generated + PAYLOADS


def test_the_lists_are_long_enough():
    assert len(hostile_strings()) + len(NOT_STRINGS) >= 200


def _assert_nothing_reached(fake_ami):
    assert fake_ami.connection_count == 0
    assert fake_ami.received_bytes == b""


def test_originate_refuses_every_hostile_number(agent_client, agent_phone, other_phone,
                                                fake_ami):
    values = hostile_strings() + NOT_STRINGS

    for value in values:
        response = post_json(agent_client, "call_originate", {"phone_number": value})
        assert response.status_code == 400, repr(value)
        assert response.json()["code"] == "invalid_number", repr(value)

    _assert_nothing_reached(fake_ami)
    assert not Call.objects.exists()


def test_originate_refuses_every_hostile_campaign_id(agent_client, agent_phone, fake_ami):
    real = Campaign.objects.create(name="Real")
    Campaign.objects.filter(pk=real.pk).update(status=Campaign.Status.FINISHED)
    # "" means "no campaign" (allowed), so it is not hostile here.
    values = [v for v in hostile_strings() if v] + [
        True, False, 1.5, [1], {"id": 1}, -1, 0, 10**12, "1 OR 1=1", "1; DROP TABLE calls",
        "-1", "0x1", "1e3", "１", "01 ", str(real.pk), real.pk, "9" * 30, "NaN", "Infinity",
    ]

    for value in values:
        response = post_json(agent_client, "call_originate",
                             {"phone_number": "5551234567", "campaign_id": value})
        assert response.status_code == 400, repr(value)
        assert response.json()["code"] == "invalid_campaign", repr(value)

    assert len(values) >= 200
    _assert_nothing_reached(fake_ami)
    assert not Call.objects.exists()


def test_transfer_refuses_every_hostile_target(agent_client, agent_phone, other_phone,
                                               fake_ami):
    call = answered_call(fake_ami, agent_phone)
    values = hostile_strings() + NOT_STRINGS + ["1999", "99", "1001"]  # missing, short, own

    for value in values:
        response = post_json(agent_client, "call_transfer",
                             {"call_id": str(call.id), "target": value})
        assert response.status_code == 400, repr(value)
        assert response.json()["code"] == "invalid_target", repr(value)

    _assert_nothing_reached(fake_ami)
    call.refresh_from_db()
    assert call.is_live and call.transferred_to == ""


def test_hangup_refuses_every_hostile_call_id(agent_client, agent_phone, other_phone, fake_ami):
    mine = answered_call(fake_ami, agent_phone)  # a live call a sloppy fallback might hit
    theirs = make_call(other_phone, status=Call.Status.ANSWERED, channel="PJSIP/1002-00000009")
    # "" means "my live call" (allowed), so it is not hostile here.
    values = [v for v in hostile_strings() if v] + [
        123, 1.5, True, [str(mine.id)], {"id": str(mine.id)}, str(theirs.id),
        str(theirs.id).upper(), str(uuid.uuid4()), str(uuid.UUID(int=0)),
        str(mine.id) + "\r\nAction: Hangup", str(mine.id)[:-1], f"{mine.id}x",
        "' OR 1=1 --", "../" + str(mine.id),
    ]

    for value in values:
        response = post_json(agent_client, "call_hangup", {"call_id": value})
        assert response.status_code == 404, repr(value)
        assert response.json()["code"] == "not_found", repr(value)
        # The same ids, read through the status endpoint, are refused the same way.
    for value in (str(theirs.id), str(uuid.uuid4())):
        response = agent_client.get(reverse("telephony:call_status", args=[value]))
        assert response.status_code == 404

    assert len(values) >= 200
    _assert_nothing_reached(fake_ami)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.is_live and theirs.is_live
