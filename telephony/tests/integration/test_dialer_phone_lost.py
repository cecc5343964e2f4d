"""An agent's phone unplugged mid-session, on a real Asterisk 22: no BYE comes, the agent's
leg stays up in Asterisk, but the next qualify of the phone goes unanswered, its endpoint goes
offline, and the dialer ends the session with the reason and hangs the leg up, so no customer
is put through to a dead phone."""

from __future__ import annotations

import json
import signal

import pytest
import requests
from django.urls import reverse

from telephony.models import AgentSession
from telephony.tests.integration.dialer_scene import AriObserver, DialerProcess, dialer_campaign
from telephony.tests.integration.harness import stop_process
from telephony.tests.integration.scenes import agent_with_phone, channels, wait_for

pytestmark = pytest.mark.integration
State = AgentSession.State


def test_an_unplugged_phone_ends_its_session_and_its_leg(pbx, django_user_model):
    client, phone = agent_with_phone(pbx, django_user_model, username="una", extension="7501")
    handset = pbx.phone("7501", phone.secret)
    campaign = dialer_campaign(None, [phone.user], [])
    observer = AriObserver(pbx)
    dialer = DialerProcess(pbx.root).start()
    try:
        wait_for(dialer.connected, timeout=15, what="run_dialer's ARI event stream")
        response = client.post(reverse("telephony:agent_dialer_start"), {"campaign": campaign.pk})
        assert response.status_code == 302
        wait_for(lambda: AgentSession.objects.filter(state=State.READY).exists(), timeout=15,
                 what="the agent ready (the phone answered the session call)")
        session = AgentSession.objects.get()
        assert any(name.startswith("PJSIP/7501-") for name in channels(pbx))
        # The dialer subscribed its application to the agent's endpoint.
        app = requests.get(f"{pbx.ari_url}/applications/{pbx.stasis_app}",
                           auth=(pbx.ari_username, pbx.ari_password), timeout=5).json()
        print(f"\napplication: {json.dumps(app)}")
        assert "PJSIP/7501" in app["endpoint_ids"], app

        # Unplugged: the softphone vanishes without a word (SIGKILL: no BYE, no REGISTER).
        stop_process(handset.process, signal.SIGKILL, timeout=5)
        assert any(name.startswith("PJSIP/7501-") for name in channels(pbx))  # still "up"
        pbx.cli("pjsip qualify 7501")  # what qualify_frequency does within 60 s

        try:
            wait_for(lambda: not AgentSession.objects.get(pk=session.pk).is_live, timeout=15,
                     what="the session ended after the failed qualify")
        except AssertionError:
            print("\n".join(json.dumps(e) for e in observer.events
                            if "7501" in json.dumps(e) and e.get("type") not in
                            ("ChannelVarset",))[-6000:])
            print(pbx.cli("pjsip show endpoint 7501")[:1500])
            raise
        session.refresh_from_db()
        assert session.state == State.LOGGED_OUT
        assert session.end_reason.startswith("phone unreachable"), session.end_reason
        wait_for(lambda: not any(name.startswith("PJSIP/7501-") for name in channels(pbx)),
                 timeout=10, what="the dead phone's leg hung up")
        # What Asterisk said (transcripts/ari_phone_unplugged.txt was recorded from this).
        about = [event for event in observer.events
                 if event.get("type") in ("ContactStatusChange", "EndpointStateChange",
                                          "PeerStatusChange")
                 and (event.get("endpoint") or {}).get("resource") == "7501"]
        print("\nendpoint frames:\n" + "\n".join(json.dumps(e) for e in about))
        assert any(e["type"] == "ContactStatusChange" and e["endpoint"]["state"] == "offline"
                   and e["contact_info"]["contact_status"] == "Unreachable" for e in about)
    finally:
        dialer.stop()
        observer.close()
        print("\n--- run_dialer output (tail) ---\n" + dialer.output()[-2000:])
