"""The autodialer on a real Asterisk 22: two agents in session, 20 leads, a carrier that
answers some calls, answers others busy and lets one ring out. `manage.py run_dialer` runs as
its own process; the test plays the agents (hang up after a short talk, then Ready) through
the same pages and ARI an agent's phone would use."""

from __future__ import annotations

import re
import statistics
import time

import pytest
from django.urls import reverse

from telephony.asterisk.ari import AriClient, AriError
from telephony.models import (
    AgentSession,
    CallDisposition,
    DialAttempt,
    Disposition,
    Lead,
    PauseCode,
)
from telephony.services.asterisk import ari_config_for
from telephony.tests.integration.dialer_scene import (
    AriObserver,
    DialerProcess,
    carrier_invites,
    dialer_campaign,
)
from telephony.tests.integration.harness import CARRIER_ADDRESS
from telephony.tests.integration.scenes import agent_with_phone, carrier_on, wait_for

pytestmark = pytest.mark.integration

State = AgentSession.State
Status = DialAttempt.Status
# The carrier_mixed scenario answers by last digit: 5/6 busy, 7 rings out, the rest answer.
NUMBERS = [f"+1212555{index:04d}" for index in range(100, 120)]
BUSY = {n for n in NUMBERS if n[-1] in "56"}
RING_OUT = {n for n in NUMBERS if n[-1] == "7"}
ANSWER = set(NUMBERS) - BUSY - RING_OUT
TALK_SECONDS = 0.6


@pytest.fixture
def floor(pbx, django_user_model):
    """Two agents with registered, answering phones; the mixed carrier; the campaign."""
    agents = []
    for username, extension in (("ann", "7201"), ("ben", "7202")):
        client, phone = agent_with_phone(pbx, django_user_model, username=username,
                                         extension=extension)
        pbx.phone(extension, phone.secret)
        agents.append((client, phone))
    carrier_uas = pbx.sipp_uas("carrier_mixed", address=CARRIER_ADDRESS)
    carrier = carrier_on(pbx, carrier_uas)
    campaign = dialer_campaign(carrier, [phone.user for _client, phone in agents], NUMBERS)
    PauseCode.objects.create(code="break", name="Break")
    observer = AriObserver(pbx)
    dialer = DialerProcess(pbx.root).start()
    ari = AriClient(ari_config_for(pbx.server))
    scene = {"agents": agents, "campaign": campaign, "carrier_uas": carrier_uas,
             "observer": observer, "dialer": dialer, "ari": ari}
    try:
        wait_for(dialer.connected, timeout=15, what="run_dialer's ARI event stream")
        yield scene
    finally:
        scene["dialer"].stop()  # the test may have replaced it (kill -9 and restart)
        observer.close()
        ari.close()
        print("\n--- run_dialer output (tail) ---\n" + scene["dialer"].output()[-3000:])


def start_sessions(floor) -> None:
    for client, _phone in floor["agents"]:
        response = client.post(reverse("telephony:agent_dialer_start"),
                               {"campaign": floor["campaign"].pk})
        assert response.status_code == 302
    wait_for(lambda: AgentSession.objects.filter(state=State.READY).count() == 2,
             timeout=15, what="both agents ready (their phones answered the session call)")


def press_ready(client, _session) -> None:
    client.post(reverse("telephony:agent_dialer_ready"))


def work_the_floor(floor, *, until, timeout: float = 120.0, on_tick=None,
                   on_wrap_up=press_ready) -> None:
    """Play both agents until `until()`: a connected customer is hung up after TALK_SECONDS
    (the agent ends the call), an agent in wrap-up presses Ready (or does `on_wrap_up`)."""
    clients = {phone.user_id: client for client, phone in floor["agents"]}
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, (
            f"the floor did not finish: leads {list(Lead.objects.values_list('state', flat=True))}")
        for session in AgentSession.objects.filter(ended_at__isnull=True):
            if session.state == State.ON_CALL and session.attempt_id and \
                    time.time() - session.state_since.timestamp() > TALK_SECONDS:
                try:
                    floor["ari"].hangup(str(session.attempt_id))
                except AriError:
                    pass  # already gone
            elif session.state == State.WRAP_UP:
                on_wrap_up(clients[session.agent_id], session)
        if on_tick:
            on_tick()
        time.sleep(0.1)


def every_lead_done() -> bool:
    return (not Lead.objects.filter(state__in=[Lead.State.NEW, Lead.State.RETRY]).exists()
            and not DialAttempt.objects.filter(ended_at__isnull=True).exists()
            and not AgentSession.objects.filter(state__in=[State.ON_CALL, State.WRAP_UP])
            .exists())  # the last wrap-up ended too: it gives its lead its state


def test_two_agents_work_twenty_leads_each_once_and_every_answer_is_bridged(floor):
    start_sessions(floor)
    campaign = floor["campaign"]

    work_the_floor(floor, until=every_lead_done)

    attempts = list(DialAttempt.objects.filter(campaign_id=campaign.pk))
    assert len(attempts) == 20 and len({a.lead_id for a in attempts}) == 20
    by_number = {a.phone_number: a for a in attempts}
    assert {n for n, a in by_number.items() if a.status == Status.BUSY} == BUSY
    assert {n for n, a in by_number.items() if a.status == Status.NO_ANSWER} == RING_OUT
    connected = {n for n, a in by_number.items() if a.status == Status.COMPLETED}
    assert connected == ANSWER, {n: a.status for n, a in by_number.items()}
    assert all(by_number[n].agent_id for n in ANSWER)
    assert not any(a.abandoned for a in attempts)  # progressive: never more calls than agents
    # Every lead's state follows its one attempt: busy and ring-out leads are used up
    # (max_attempts 1); so are answered ones, whose agents pressed Ready without a
    # disposition: the system's NODISPO seals their rows (no lead left "in progress").
    states = dict(Lead.objects.values_list("phone_number", "state"))
    assert {states[n] for n in BUSY | RING_OUT} == {Lead.State.EXHAUSTED}
    assert {states[n] for n in ANSWER} == {Lead.State.EXHAUSTED}
    fresh = {a.phone_number: a for a in DialAttempt.objects.filter(campaign_id=campaign.pk)}
    assert {fresh[n].disposition for n in ANSWER} == {"NODISPO"}
    assert all(fresh[n].closed_at is not None for n in ANSWER)
    # ... and each answered lead's disposition history says so, once (the system's entry).
    history = list(CallDisposition.objects.filter(campaign=campaign)
                   .values_list("lead__phone_number", "system_code", "disposition"))
    assert sorted(history) == sorted((n, "NODISPO", None) for n in ANSWER)
    # The carrier saw each number exactly once: nothing dialled twice.
    invites = carrier_invites(floor["carrier_uas"])
    assert sorted(invites.values()) == [1] * 20, invites

    delays = floor["observer"].answer_to_bridge_ms({str(by_number[n].pk) for n in ANSWER})
    assert len(delays) == len(ANSWER)
    ordered = sorted(delays.values())
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    print(f"\nanswer -> agent bridged (Asterisk's timestamps), {len(ordered)} calls: median "
          f"{statistics.median(ordered):.0f} ms, p99 {p99:.0f} ms, max {ordered[-1]:.0f} ms")
    # The rule is functional: a customer who answered is with an agent within 2 s, or the
    # call counts as abandoned. (How fast it really is, against the 300 ms target, is the
    # printed measurement, reported in docs/dialer.md; a timed assertion would only flake.)
    assert ordered[-1] < 2000


def test_a_campaign_that_requires_a_disposition_gets_one_for_every_answered_call(floor):
    """With `disposition_required`, each agent in wrap-up presses Ready first (refused: still
    in wrap-up with the call), then saves the disposition with "then ready", which is what
    moves them on to the next customer."""
    campaign = floor["campaign"]
    campaign.disposition_required = True
    campaign.save()
    sale = Disposition.objects.create(campaign=campaign, name="Sale", policy="final")
    refused = []

    def dispose(client, session) -> None:
        client.post(reverse("telephony:agent_dialer_ready"))
        after = AgentSession.objects.get(pk=session.pk)
        refused.append((after.state, after.attempt_id) == (State.WRAP_UP, session.attempt_id))
        response = client.post(reverse("telephony:attempt_disposition",
                                       args=[session.attempt_id]),
                               {"disposition_id": sale.pk, "then": "ready"},
                               content_type="application/json")
        assert response.status_code == 201, response.content

    start_sessions(floor)
    work_the_floor(floor, until=every_lead_done, on_wrap_up=dispose)

    assert refused == [True] * len(ANSWER)
    attempts = {a.phone_number: a for a in DialAttempt.objects.filter(campaign_id=campaign.pk)}
    assert {attempts[n].disposition for n in ANSWER} == {"Sale"}
    states = dict(Lead.objects.values_list("phone_number", "state"))
    assert {states[n] for n in ANSWER} == {Lead.State.FINAL}
    history = CallDisposition.objects.filter(campaign=campaign)
    assert sorted(history.values_list("lead__phone_number", "disposition__name",
                                      "system_code")) == sorted((n, "Sale", "") for n in ANSWER)


def test_with_every_agent_paused_no_new_call_starts(floor):
    start_sessions(floor)
    campaign = floor["campaign"]
    work_the_floor(floor, until=lambda: DialAttempt.objects.filter(
        campaign_id=campaign.pk, ended_at__isnull=False).count() >= 4)
    for client, _phone in floor["agents"]:
        client.post(reverse("telephony:agent_dialer_pause"),
                    {"pause_code": PauseCode.objects.get(code="break").pk})
    # A call already ringing for an agent who paused may still end (and be handed to no one);
    # once the pause is recorded, nothing new may start.

    def paused() -> bool:
        sessions = AgentSession.objects.filter(ended_at__isnull=True)
        for session in sessions.filter(state__in=[State.ON_CALL, State.WRAP_UP]):
            if session.state == State.ON_CALL and session.attempt_id:
                try:
                    floor["ari"].hangup(str(session.attempt_id))
                except AriError:
                    pass
            elif session.state == State.WRAP_UP:
                client = next(c for c, p in floor["agents"] if p.user_id == session.agent_id)
                client.post(reverse("telephony:agent_dialer_pause"),
                            {"pause_code": PauseCode.objects.get(code="break").pk})
        return all(s.state == State.PAUSED for s in sessions) and not \
            DialAttempt.objects.filter(ended_at__isnull=True).exists()

    wait_for(paused, timeout=30, what="both agents paused, no call in flight")
    launched = DialAttempt.objects.filter(campaign_id=campaign.pk).count()
    time.sleep(2.5)  # more than two dialer ticks
    assert DialAttempt.objects.filter(campaign_id=campaign.pk).count() == launched

    for client, _phone in floor["agents"]:
        client.post(reverse("telephony:agent_dialer_ready"))
    wait_for(lambda: DialAttempt.objects.filter(campaign_id=campaign.pk).count() > launched,
             timeout=5, what="dialling resumed after Ready")


def test_a_worker_killed_mid_run_and_restarted_dials_no_lead_twice(floor, pbx):
    start_sessions(floor)
    campaign = floor["campaign"]
    work_the_floor(floor, until=lambda: DialAttempt.objects.filter(campaign_id=campaign.pk)
                   .count() >= 6)
    floor["dialer"].kill9()  # mid-run: calls ringing or talking, events unheard
    time.sleep(1.5)
    floor["dialer"] = DialerProcess(pbx.root, DIALER_UNSTICK_SECONDS="5").start()
    wait_for(floor["dialer"].connected, timeout=15, what="the restarted run_dialer's events")

    work_the_floor(floor, until=every_lead_done, timeout=150)

    attempts = DialAttempt.objects.filter(campaign_id=campaign.pk)
    per_lead: dict[int, int] = {}
    for lead_id in attempts.values_list("lead_id", flat=True):
        per_lead[lead_id] = per_lead.get(lead_id, 0) + 1
    assert set(per_lead) == set(Lead.objects.values_list("pk", flat=True))
    assert set(per_lead.values()) == {1}, per_lead
    invites = carrier_invites(floor["carrier_uas"])
    assert set(invites.values()) == {1}, invites  # never a number dialled twice
    # The kill can land between an attempt's row and its originate (the row is written first,
    # on purpose): that number was never dialled, and the restarted worker's reconcile says so
    # on its attempt instead of guessing. Every other number reached the carrier.
    undialled = set(NUMBERS) - set(invites)
    assert len(undialled) <= 1, undialled
    for number in undialled:
        attempt = attempts.get(phone_number=number)
        assert attempt.status == DialAttempt.Status.FAILED, attempt.status
        assert attempt.error.startswith("Not dialled or lost before ringing"), attempt.error
    print(f"kill -9: {len(undialled)} attempt(s) caught between row and originate")
    # Every attempt row ended with an outcome, none lost.
    assert not attempts.filter(ended_at__isnull=True).exists()
    assert not Lead.objects.filter(state__in=[Lead.State.NEW, Lead.State.RETRY]).exists()


@pytest.mark.browser
def test_the_lead_pops_up_on_the_agents_screen_the_moment_a_customer_answers(page, floor,
                                                                           settings):
    from playwright.sync_api import expect

    from conftest import browser_login

    # Short streams: the page must also survive the server closing one (EventSource
    # reconnects), and no stream outlives the test.
    settings.DIALER_PUSH_STREAM_SECONDS = 2
    answering = sorted(ANSWER)[:4]
    Lead.objects.exclude(phone_number__in=answering).delete()
    browser_login(page, "ann", "pw-ann")
    page.goto(page.base_url + reverse("telephony:agent_dialer"))
    page.get_by_role("button", name="Start").click()
    # Ready may last less than one push: the dialer can hand over the first customer at once.
    expect(page.locator("#session-state")).to_have_text(re.compile("Ready|On call"),
                                                        timeout=15_000)

    pop = page.locator("#screen-pop")
    shown: dict[str, int] = {}
    for _customer in answering:
        expect(pop).to_be_visible(timeout=15_000)
        attempt_id = pop.get_attribute("data-attempt")
        shown[attempt_id] = int(pop.get_attribute("data-shown-at"))
        attempt = DialAttempt.objects.get(pk=attempt_id)
        lead = Lead.objects.get(pk=attempt.lead_id)
        expect(pop.locator('[data-pop="name"]')).to_have_text(lead.first_name)
        expect(pop.locator('[data-pop="number"]')).to_have_text(lead.phone_number)
        expect(page.locator("#session-state")).to_have_text("On call")
        floor["ari"].hangup(attempt_id)  # the agent's customer hangs up
        expect(page.locator("#session-state")).to_have_text("Wrap-up")
        page.get_by_role("button", name="Ready").click()
        expect(page.locator("#session-state")).to_have_text(re.compile("Ready|On call"))
        expect(pop).not_to_have_attribute("data-attempt", attempt_id)

    answered = floor["observer"].answered_at(set(shown))
    delays = sorted(shown[a] - answered[a].timestamp() * 1000 for a in shown)
    print(f"\nanswer -> lead on the agent's screen, {len(delays)} calls: "
          f"{', '.join(f'{d:.0f}' for d in delays)} ms")
    # Each pop came from that call's answer (not before it), on a page that was not reloaded.
    # How fast is measured and printed (docs/dialer.md has the numbers), not asserted: a
    # timed assert fails on a loaded machine without anything being wrong. The 2-second
    # rule itself (answer -> bridge) is asserted by the ledger tests above.
    assert len(delays) == 4 and delays[0] > 0, delays
    page.goto("about:blank")  # let the last stream end before the test database goes
    time.sleep(2.5)
