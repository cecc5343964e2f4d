"""Fixtures of the call-control tests: the protocol fakes, a server pointing at them, phones.

Test modules take them with `from telephony.tests.call_fixtures import *  # noqa: F403`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telephony.models import AsteriskServer, Call, Phone
from telephony.tests.fakes.ami import FakeAmiServer, registered_endpoint
from telephony.tests.fakes.ari import FakeAriServer

__all__ = ["fast_asterisk", "fake_ami", "fake_ari", "server", "agent_phone", "other_phone",
           "post_json", "make_call", "answered_call"]


@pytest.fixture(autouse=True)
def fast_asterisk(settings):
    """Faults show within a second; one test raises it back to the 5 s default."""
    settings.ASTERISK_TIMEOUT = 1.0


@pytest.fixture
def fake_ami() -> Iterator[FakeAmiServer]:
    with FakeAmiServer() as fake:
        yield fake


@pytest.fixture
def fake_ari() -> Iterator[FakeAriServer]:
    with FakeAriServer() as fake:
        yield fake


@pytest.fixture
def server(fake_ami, fake_ari) -> AsteriskServer:
    return AsteriskServer.objects.create(
        name="lab", host="127.0.0.1", ami_host="127.0.0.1", ami_port=fake_ami.port,
        ami_username=fake_ami.username, ami_password=fake_ami.secret, ari_host="127.0.0.1",
        ari_port=fake_ari.port, ari_username=fake_ari.username, ari_password=fake_ari.password)


@pytest.fixture
def agent_phone(agent, server) -> Phone:
    return Phone.objects.create(extension="1001", name="Bob's desk", server=server, user=agent,
                                caller_id_name="Bob", caller_id_number="5550001")


@pytest.fixture
def other_phone(other_agent, server, fake_ami) -> Phone:
    # Registered and reachable, as a transfer target must be (Asterisk is asked first).
    fake_ami.endpoints["1002"] = registered_endpoint("1002")
    return Phone.objects.create(extension="1002", name="Carol's desk", server=server,
                                user=other_agent)


def post_json(client: Client, name: str, data: Any = None, *, raw: bytes | None = None,
              **headers: str) -> Any:
    body = raw if raw is not None else json.dumps(data if data is not None else {})
    return client.post(reverse(f"telephony:{name}"), body, content_type="application/json",
                       headers=headers)


def make_call(phone: Phone, *, status: str = Call.Status.QUEUED, number: str = "+15551234567",
              **fields: Any) -> Call:
    return Call.objects.create(user=phone.user, phone=phone, server=phone.server, number=number,
                               status=status, **fields)


def answered_call(fake: FakeAmiServer, phone: Phone, **fields: Any) -> Call:
    """A bridged call whose agent leg exists in the fake (so Hangup/BlindTransfer find it)."""
    leg = fake.add_channel(f"PJSIP/{phone.extension}-0000002a")
    fields.setdefault("answered_at", timezone.now() - timedelta(seconds=42))
    return make_call(phone, status=Call.Status.ANSWERED, channel=leg["Channel"],
                     uniqueid=leg["Uniqueid"], linkedid=leg["Linkedid"],
                     peer_channel="PJSIP/carrier-0000002b", **fields)
