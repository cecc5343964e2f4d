"""Answering-machine detection on a real Asterisk 22 (issue #14): a carrier (sipp) whose
answered calls send a greeting as RTP (amd_audio.py: a short "hello" then silence for a
person, a long continuous greeting for a machine). The customer leg is originated into our
Stasis application as every dialer call is; on its StasisStart the application sends it
(`continue`) to the generated `autodialer-amd` context, where AMD() listens and Stasis() hands
it back with the verdict; a channel we originated stays subscribed to our application out of
Stasis, so a hang-up during the analysis reaches us. With RECORD_TRANSCRIPTS=<dir> the frames
are saved there as ari_stasis_amd.txt and ari_stasis_amd_hangup.txt (the copies in
fakes/transcripts/ are what the unit tests replay)."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import pytest
from django.urls import reverse

from telephony.asterisk.ari import AriClient
from telephony.asterisk.confgen import AMD_CONTEXT
from telephony.dialer.worker import carrier_endpoint
from telephony.models import AgentSession, Campaign, DialAttempt, Lead
from telephony.services.asterisk import ari_config_for
from telephony.tests.fakes.ari import FakeAriServer
from telephony.tests.fakes.ari_frames import (
    AMD_CALLS,
    AMD_HANGUPS,
    disagreements,
    play_amd_calls,
    play_amd_hangups,
    sequences,
)
from telephony.tests.integration.amd_audio import human_greeting, machine_greeting, slin_tone
from telephony.tests.integration.dialer_scene import AriObserver, DialerProcess, dialer_campaign
from telephony.tests.integration.harness import CARRIER_ADDRESS
from telephony.tests.integration.scenes import agent_with_phone, carrier_on, wait_for
from telephony.tests.integration.test_ari_frames import Stream
from telephony.tests.integration.test_dialer import every_lead_done, work_the_floor

pytestmark = pytest.mark.integration

# carrier_amd: ...8 answers as a machine, the rest as people (fakes/ari_frames.AMD_CALLS).
HUMAN, MACHINE = AMD_CALLS["human"][0], AMD_CALLS["machine"][0]
Status = DialAttempt.Status


def amd_carrier(pbx):
    uas = pbx.sipp_uas("carrier_amd", address=CARRIER_ADDRESS,
                       files={"human.pcmu": human_greeting(),
                              "machine.pcmu": machine_greeting()})
    return uas, carrier_on(pbx, uas)


def started(channel_id: str, first: str):
    return lambda events: any(e["type"] == "StasisStart" and e["channel"]["id"] == channel_id
                              and e.get("args", [None])[0] == first for e in events)


def gone(channel_id: str):
    return lambda events: any(e["type"] == "ChannelDestroyed"
                              and e["channel"]["id"] == channel_id for e in events)


def test_amd_in_the_dialplan_hands_the_verdict_back_to_stasis(pbx):
    _uas, carrier = amd_carrier(pbx)
    ids = {"human": str(uuid.uuid4()), "machine": str(uuid.uuid4())}
    stream = Stream(pbx)
    verdicts, seconds = {}, {}
    try:
        with AriClient(ari_config_for(pbx.server)) as ari:
            for name, number in (("human", HUMAN), ("machine", MACHINE)):
                ari.originate_to_app(endpoint=carrier_endpoint(carrier, number),
                                     channel_id=ids[name], timeout=5, app_args="customer")
                stream.until(started(ids[name], "customer"))
                began = time.monotonic()
                ari.continue_in_dialplan(ids[name], context=AMD_CONTEXT)
                events = stream.until(started(ids[name], "amd"), timeout=10)
                seconds[name] = time.monotonic() - began
                verdicts[name] = next(e["args"] for e in events if e["type"] == "StasisStart"
                                      and e["channel"]["id"] == ids[name]
                                      and e["args"][0] == "amd")
                ari.hangup(ids[name])
                stream.until(gone(ids[name]))
            real = stream.events
    finally:
        stream.close()
    print(f"\nAMD verdicts {verdicts}, continue -> verdict {seconds}")
    directory = os.environ.get("RECORD_TRANSCRIPTS")
    if directory:
        Path(directory, "ari_stasis_amd.txt").write_text(
            "## PJSIP customers into Stasis via the trunk (sipp carrier_amd): each continued "
            "to autodialer-amd, back in Stasis with the AMD verdict, hung up by us; a person "
            "(1 s greeting), then a machine (6 s greeting)\n## EVENTS\n"
            + "".join(json.dumps(e) + "\n" for e in real))
    assert verdicts["human"][1] == "HUMAN", verdicts
    assert verdicts["machine"][1] == "MACHINE", verdicts
    # The ARI fake's frames for the same calls agree, field by field and event by event.
    with FakeAriServer() as fake:
        fake_events = play_amd_calls(fake)
    assert disagreements(fake_events, real) == {}
    assert sequences(fake_events) == sequences(real, list(AMD_CALLS))


def test_a_channel_we_originated_reports_its_end_from_the_dialplan_subscribed_or_not(pbx):
    # Two people who hang up (BYE) 0.5 s into the analysis, continued to the AMD context; only
    # the second explicitly subscribed to. A channel originated into our application stays
    # subscribed to it out of Stasis: both ends reach us, so the dialer does not subscribe.
    _uas, carrier = amd_carrier(pbx)
    ids = {name: str(uuid.uuid4()) for name in AMD_HANGUPS}
    stream = Stream(pbx)
    try:
        with AriClient(ari_config_for(pbx.server)) as ari:
            for name, number in AMD_HANGUPS.items():
                ari.originate_to_app(endpoint=carrier_endpoint(carrier, number),
                                     channel_id=ids[name], timeout=5, app_args="customer")
                stream.until(started(ids[name], "customer"))
                if name == "subscribed":
                    ari.subscribe_channel(ids[name])
                ari.continue_in_dialplan(ids[name], context=AMD_CONTEXT)
                stream.until(gone(ids[name]), timeout=5)
            real = list(stream.events)
    finally:
        stream.close()
    directory = os.environ.get("RECORD_TRANSCRIPTS")
    if directory:
        Path(directory, "ari_stasis_amd_hangup.txt").write_text(
            "## PJSIP customers (sipp carrier_amd ...9: a person who hangs up, BYE, 0.5 s "
            "after answering) continued to autodialer-amd: the first not subscribed "
            "explicitly, the second subscribed\n## EVENTS\n"
            + "".join(json.dumps(e) + "\n" for e in real))
    destroyed = {e["channel"]["id"]: e["cause"] for e in real
                 if e["type"] == "ChannelDestroyed"}
    # A BYE while AMD() runs carries no cause: ChannelHangupRequest has none, ChannelDestroyed
    # says 0 "Unknown" (bridged, the same BYE gives 16).
    assert destroyed == {ids["unsubscribed"]: 0, ids["subscribed"]: 0}
    with FakeAriServer() as fake:
        fake_events = play_amd_hangups(fake)
    assert disagreements(fake_events, real) == {}
    assert sequences(fake_events) == sequences(real, list(AMD_HANGUPS))


def test_the_dialer_gives_the_person_to_the_agent_and_the_machine_its_message(
        pbx, django_user_model):
    client, phone = agent_with_phone(pbx, django_user_model, username="amy", extension="7401")
    pbx.phone("7401", phone.secret)
    _uas, carrier = amd_carrier(pbx)
    (pbx.sounds_dir / "autodialer").mkdir(exist_ok=True)
    (pbx.sounds_dir / "autodialer" / "machine-message.sln").write_bytes(slin_tone(1.0))
    campaign = dialer_campaign(carrier, [phone.user], [HUMAN, MACHINE], name="AMD test",
                               amd_enabled=True,
                               amd_machine_action=Campaign.MachineAction.MESSAGE,
                               amd_machine_sound="autodialer/machine-message")
    observer = AriObserver(pbx)
    dialer = DialerProcess(pbx.root).start()
    ari = AriClient(ari_config_for(pbx.server))
    try:
        wait_for(dialer.connected, timeout=15, what="run_dialer's ARI event stream")
        response = client.post(reverse("telephony:agent_dialer_start"),
                               {"campaign": campaign.pk})
        assert response.status_code == 302
        wait_for(lambda: AgentSession.objects.filter(
            state=AgentSession.State.READY).exists(), timeout=15, what="the agent ready")
        work_the_floor({"agents": [(client, phone)], "ari": ari}, until=every_lead_done,
                       timeout=60)
    finally:
        dialer.stop()
        observer.close()
        ari.close()
        print("\n--- run_dialer output (tail) ---\n" + dialer.output()[-2000:])

    by_number = {a.phone_number: a for a in DialAttempt.objects.filter(campaign_id=campaign.pk)}
    person, machine = by_number[HUMAN], by_number[MACHINE]
    assert person.status == Status.COMPLETED and person.agent_id == phone.user_id
    assert person.amd_result == "HUMAN" and person.amd_cause.startswith("HUMAN")
    assert person.amd_at > person.answered_at and not person.abandoned
    assert machine.status == Status.MACHINE and machine.agent_id is None
    assert machine.amd_result == "MACHINE" and machine.amd_cause
    assert not machine.abandoned and machine.closed_at is not None
    assert machine.connected_at is None
    # The machine heard the whole message (Asterisk found and played the sound), then the
    # dialer hung up: its channel ended after the playback finished.
    machine_events = [e for e in observer.events
                      if (e.get("channel") or {}).get("id") == str(machine.pk)
                      or (e.get("playback") or {}).get("target_uri") == f"channel:{machine.pk}"]
    kinds = [e["type"] for e in machine_events if e["type"].startswith(("Playback",
                                                                          "ChannelDestroyed"))]
    finished = [e["playback"] for e in machine_events if e["type"] == "PlaybackFinished"]
    print(f"machine after the verdict: {kinds}; playback {finished}")
    assert kinds == ["PlaybackStarted", "PlaybackFinished", "ChannelDestroyed"], kinds
    assert finished[0]["state"] == "done"
    assert finished[0]["media_uri"] == "sound:autodialer/machine-message"
    # One attempt per lead here (dialer_campaign): the machine's lead is used up, by "machine".
    lead = Lead.objects.get(pk=machine.lead_id)
    assert (lead.state, lead.last_outcome) == (Lead.State.EXHAUSTED, "machine")
    # The 2-second rule, measured from AMD's verdict (the end of the greeting: AMD() setting
    # AMDSTATUS; StasisStart goes only to our application, not to the observer) to the
    # customer entering the agent's bridge, as Asterisk stamped both.
    stamps = {}
    for event in observer.events:
        channel = (event.get("channel") or {}).get("id")
        if channel != str(person.pk):
            continue
        if event["type"] == "ChannelVarset" and event.get("variable") == "AMDSTATUS":
            stamps.setdefault("verdict", AriObserver._at(event))
        if event["type"] == "ChannelEnteredBridge" and event["bridge"]["id"].startswith(
                "agent-"):
            stamps.setdefault("bridged", AriObserver._at(event))
    answered = observer.answered_at({str(person.pk), str(machine.pk)})
    listen = {name: (by_number[number].amd_at - by_number[number].answered_at).total_seconds()
              for name, number in (("person", HUMAN), ("machine", MACHINE))}
    verdict_to_bridge = (stamps["bridged"] - stamps["verdict"]).total_seconds() * 1000
    answer_to_verdict = (stamps["verdict"] - answered[str(person.pk)]).total_seconds()
    print(f"\nAMD listened (ledger): {listen}; person: answer -> verdict "
          f"{answer_to_verdict:.2f} s, verdict -> agent's bridge {verdict_to_bridge:.0f} ms")
    assert verdict_to_bridge < 2000
