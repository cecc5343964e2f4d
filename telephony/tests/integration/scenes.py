"""The people and things of an integration test: agents with registered phones, a carrier played
by sipp on 127.0.0.2, the scaffolded agents context, and polling for what Asterisk reports."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from telephony.models import Call, Carrier, Phone
from telephony.services.carriers import carrier_create
from telephony.services.dialplan import dialplan_scaffold_agents
from telephony.tests.integration.harness import CARRIER_ADDRESS


def wait_for(probe: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.1,
             what: str = "condition") -> Any:
    """Poll `probe` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(interval)


def agent_with_phone(pbx, django_user_model, *, username: str, extension: str,
                     **phone_fields) -> tuple[Client, Phone]:
    """An agent logged in to a Client, with an active phone on pbx.server (not registered)."""
    user = django_user_model.objects.create_user(username=username, password="pw-" + username)
    user.groups.add(Group.objects.get(name="Agent"))
    phone = Phone.objects.create(extension=extension, name=f"{username} desk",
                                 server=pbx.server, user=user, **phone_fields)
    client = Client()
    client.force_login(user)
    return client, phone


def carrier_on(pbx, uas, *, slug: str = "acme", **fields) -> Carrier:
    """An IP-authenticated carrier whose SIP server is the sipp `uas` (on 127.0.0.2)."""
    values = {"name": slug.title(), "slug": slug, "server": pbx.server, "host": uas.address,
              "port": uas.port, "auth_mode": Carrier.AuthMode.IP, **fields}
    assert uas.address == CARRIER_ADDRESS or "host" in fields
    return carrier_create(**values)


def scaffold() -> None:
    dialplan_scaffold_agents()
    time.sleep(1.1)  # pbx_realtime caches dialplan lookups for 1 s (runtime README)


def api(client: Client, name: str, data: dict | None = None) -> Any:
    response = client.post(reverse(f"telephony:{name}"), json.dumps(data or {}),
                           content_type="application/json")
    return response.status_code, response.json()


def call_status(call_id: str) -> str:
    return Call.objects.values_list("status", flat=True).get(pk=call_id)


def statuses_until(call_id: str, final: set[str], *, timeout: float = 15.0) -> list[str]:
    """Every distinct status the call shows, polled, until it reaches one in `final`."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = call_status(call_id)
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in final:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"call {call_id} went {seen} and never reached {final}")


def channels(pbx) -> list[str]:
    """The channels Asterisk has now (`core show channels concise`: name!context!...)."""
    out = pbx.cli("core show channels concise")
    return [line.split("!")[0] for line in out.splitlines() if "!" in line]


def bridged_together(pbx, *prefixes: str) -> bool:
    """Is there one bridge holding a channel starting with each of `prefixes`?"""
    out = pbx.cli("bridge show all")
    for bridge_id in re.findall(r"^([0-9a-f]{8}-[0-9a-f-]{27})\s", out, re.M):
        members = pbx.cli(f"bridge show {bridge_id}")
        if all(prefix in members for prefix in prefixes):
            return True
    return False
