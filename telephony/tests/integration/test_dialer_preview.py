"""Preview mode on a real Asterisk 22: one agent in session on a preview campaign with three
leads sees lead 1, dials it (the carrier gets the INVITE for that number, the customer is
bridged with the agent), the customer hangs up, the agent saves a disposition, sees lead 2,
skips it, sees lead 3. `manage.py run_dialer` runs as its own process (events, reservations);
the test plays the agent through the same pages and API the session page uses."""

from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse

from telephony.asterisk.ari import AriClient
from telephony.dialer.screen import session_screen
from telephony.models import AgentSession, DialAttempt, Disposition, Lead, PreviewSkip
from telephony.services.asterisk import ari_config_for
from telephony.tests.integration.dialer_scene import (
    AriObserver,
    carrier_invites,
    preview_floor,
)
from telephony.tests.integration.scenes import wait_for

pytestmark = pytest.mark.integration
State = AgentSession.State
Status = DialAttempt.Status
# carrier_mixed answers every number whose last digit is not 5, 6 or 7.
NUMBERS = ["+12125550200", "+12125550201", "+12125550202"]


def shown_number(user) -> str | None:
    preview = session_screen(user).get("preview") or {}
    return (preview.get("lead") or {}).get("number")


def test_an_agent_previews_dials_dispositions_skips_and_sees_the_next(pbx, django_user_model):
    client, phone, campaign, carrier_uas, dialer = preview_floor(pbx, django_user_model,
                                                                 NUMBERS)
    sale = Disposition.objects.create(campaign=campaign, name="Sale", policy="final")
    observer = AriObserver(pbx)
    ari = AriClient(ari_config_for(pbx.server))
    agent = phone.user
    try:
        assert client.post(reverse("telephony:agent_dialer_start"),
                           {"campaign": campaign.pk}).status_code == 302
        wait_for(lambda: AgentSession.objects.filter(state=State.READY).exists(), timeout=15,
                 what="the agent ready (their phone answered the session call)")
        wait_for(lambda: shown_number(agent) == NUMBERS[0], timeout=5,
                 what="lead 1 reserved and shown")
        time.sleep(1.5)  # a tick or more: the worker must not dial a preview lead itself
        assert not DialAttempt.objects.exists() and carrier_invites(carrier_uas) == {}

        started = time.monotonic()
        assert client.post(reverse("telephony:agent_dialer_dial")).status_code == 302
        attempt = DialAttempt.objects.get()
        assert (attempt.phone_number, attempt.worker) == (NUMBERS[0], "preview")
        wait_for(lambda: DialAttempt.objects.get(pk=attempt.pk).status == Status.CONNECTED,
                 timeout=15, what="the customer answered and bridged with the agent")
        print(f"\nDial pressed -> customer bridged: {(time.monotonic() - started) * 1000:.0f}"
              f" ms (test clock)")
        session = AgentSession.objects.get(agent=agent, ended_at__isnull=True)
        assert (session.state, session.attempt_id) == (State.ON_CALL, attempt.pk)
        dialled = campaign.carrier.dial_number(NUMBERS[0])  # as the trunk sends it
        assert carrier_invites(carrier_uas) == {dialled: 1}, carrier_invites(carrier_uas)
        delays = wait_for(lambda: observer.answer_to_bridge_ms({str(attempt.pk)}), timeout=5,
                          what="Asterisk's bridge event for the customer")
        print(f"answer -> agent bridged (Asterisk's timestamps): "
              f"{delays[str(attempt.pk)]:.0f} ms")

        ari.hangup(str(attempt.pk))  # the customer hangs up
        wait_for(lambda: AgentSession.objects.get(pk=session.pk).state == State.WRAP_UP,
                 timeout=10, what="wrap-up after the hang-up")
        response = client.post(
            reverse("telephony:attempt_disposition", args=[attempt.pk]),
            json.dumps({"disposition_id": sale.pk, "notes": "Yes to gold."}),
            content_type="application/json")
        assert response.status_code == 201, response.content
        assert AgentSession.objects.get(pk=session.pk).state == State.READY
        wait_for(lambda: shown_number(agent) == NUMBERS[1], timeout=5,
                 what="lead 2 shown after the disposition")

        assert client.post(reverse("telephony:agent_dialer_skip"),
                           {"reason": "Asked not to be called before noon"}
                           ).status_code == 302
        wait_for(lambda: shown_number(agent) == NUMBERS[2], timeout=5,
                 what="lead 3 shown after the skip")

        # The ledger: one row, for the call dialled, sealed with its disposition.
        rows = list(DialAttempt.objects.filter(campaign_id=campaign.pk))
        assert len(rows) == 1
        row = rows[0]
        assert (row.status, row.abandoned, row.disposition, row.agent_id) == (
            Status.COMPLETED, False, "Sale", agent.pk)
        assert row.answered_at and row.connected_at and row.closed_at
        assert row.connected_at >= row.answered_at and row.talk_seconds >= 0
        assert row.wrap_seconds is not None
        leads = dict(Lead.objects.values_list("phone_number", "state"))
        assert leads[NUMBERS[0]] == Lead.State.FINAL
        assert leads[NUMBERS[1]] == Lead.State.NEW  # given back, waiting the retry delay
        assert leads[NUMBERS[2]] == Lead.State.IN_PROGRESS  # reserved, on screen
        skip = PreviewSkip.objects.get()
        assert (skip.phone_number, skip.agent_username) == (NUMBERS[1], agent.username)
        assert len(carrier_invites(carrier_uas)) == 1  # the skipped lead was never dialled
    finally:
        dialer.stop()
        observer.close()
        ari.close()
        print("\n--- run_dialer output (tail) ---\n" + dialer.output()[-2000:])
