"""One campaign on two real Asterisk 22 instances: an agent on each, the campaign's carrier on
each, one `run_dialer` following both. Every customer is dialled on the server of the agent it is
given to; when one Asterisk dies, the other goes on dialling alone, nothing is launched on the
one that is down, and the supervisor's dialer page names it."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from telephony.asterisk.ari import AriClient, AriError
from telephony.models import (
    AgentSession,
    AsteriskServer,
    DialAttempt,
    DialerWorker,
    Lead,
    LeadList,
)
from telephony.services.asterisk import ari_config_for
from telephony.tests.integration.conftest import Pbx, _generated_config
from telephony.tests.integration.dialer_scene import (
    DialerProcess,
    carrier_invites,
    dialer_campaign,
)
from telephony.tests.integration.harness import (
    ASTERISK_BIN,
    CARRIER_ADDRESS,
    AsteriskInstance,
    Ports,
)
from telephony.tests.integration.scenes import agent_with_phone, carrier_on, wait_for

pytestmark = pytest.mark.integration

State = AgentSession.State
Status = DialAttempt.Status
# carrier_mixed answers every number whose last digit is not 5, 6 or 7.
FIRST = [f"+1212555{index:04d}" for index in (200, 201, 202, 203, 208, 209)]
AFTER = [f"+1212555{index:04d}" for index in (210, 211, 212, 213)]
TALK_SECONDS = 0.5


@pytest.fixture(scope="module")
def asterisk_b(asterisk, django_db_blocker):
    """A second instance of its own (ports, config, log), reading the same realtime database."""
    root = Path(tempfile.mkdtemp(prefix="autodialer-asterisk-b-"))
    ports = Ports.pick()
    instance = AsteriskInstance(root=root, ports=ports, binary=ASTERISK_BIN)
    with django_db_blocker.unblock():
        generated = _generated_config(ports, root / "generated")
    instance.write_config(generated,
                          db_password=settings.DATABASES["default"].get("PASSWORD") or "")
    instance.start()
    pbx = Pbx(instance)
    try:
        yield pbx
    finally:
        pbx.stop_sipps()
        instance.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pbx_b(asterisk_b, pbx):
    if not asterisk_b.running():
        asterisk_b.start()
    asterisk_b.server = AsteriskServer.objects.create(
        **asterisk_b.server_values(name="integration-b"))
    try:
        yield asterisk_b
    finally:
        asterisk_b.hangup_all()
        asterisk_b.stop_sipps()
        asterisk_b.server = None


def _floor_until(clients, aris, until, timeout=90.0):
    """Play the agents: hang a connected customer up after TALK_SECONDS (on the Asterisk that
    has the call), press Ready in wrap-up."""
    import time

    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, (
            f"not done: leads {list(Lead.objects.values_list('phone_number', 'state'))}")
        for session in AgentSession.objects.filter(ended_at__isnull=True):
            if session.state == State.ON_CALL and session.attempt_id and \
                    time.time() - session.state_since.timestamp() > TALK_SECONDS:
                try:
                    aris[session.server_id].hangup(str(session.attempt_id))
                except AriError:
                    pass  # already gone
            elif session.state == State.WRAP_UP:
                clients[session.agent_id].post(reverse("telephony:agent_dialer_ready"))
        time.sleep(0.1)


def _all_done(numbers) -> bool:
    return (not Lead.objects.filter(phone_number__in=numbers,
                                    state__in=[Lead.State.NEW, Lead.State.RETRY]).exists()
            and not DialAttempt.objects.filter(ended_at__isnull=True).exists()
            and not AgentSession.objects.filter(state__in=[State.ON_CALL, State.WRAP_UP])
            .exists())


def test_each_customer_is_dialled_on_its_agents_server_and_a_server_down_stops_only_its_own(
        pbx, pbx_b, django_user_model):
    ann_client, ann_phone = agent_with_phone(pbx, django_user_model, username="ann",
                                             extension="7401")
    ben_client, ben_phone = agent_with_phone(pbx_b, django_user_model, username="ben",
                                             extension="7402")
    pbx.phone("7401", ann_phone.secret)
    pbx_b.phone("7402", ben_phone.secret)
    carrier_uas = pbx.sipp_uas("carrier_mixed", address=CARRIER_ADDRESS)
    acme = carrier_on(pbx, carrier_uas, slug="acme")
    bravo = carrier_on(pbx_b, carrier_uas, slug="bravo")
    campaign = dialer_campaign(acme, [ann_phone.user, ben_phone.user], FIRST)
    campaign.other_carriers.set([bravo])
    dialer = DialerProcess(pbx.root).start()
    aris = {pbx.server.pk: AriClient(ari_config_for(pbx.server)),
            pbx_b.server.pk: AriClient(ari_config_for(pbx_b.server))}
    clients = {ann_phone.user_id: ann_client, ben_phone.user_id: ben_client}
    try:
        wait_for(lambda: dialer.output().count("ARI events connected") >= 2, timeout=20,
                 what="run_dialer following both servers")
        for client in (ann_client, ben_client):
            response = client.post(reverse("telephony:agent_dialer_start"),
                                   {"campaign": campaign.pk})
            assert response.status_code == 302
        wait_for(lambda: AgentSession.objects.filter(state=State.READY).count() == 2,
                 timeout=15, what="both agents ready on their own servers")

        _floor_until(clients, aris, lambda: _all_done(FIRST))

        attempts = list(DialAttempt.objects.filter(campaign_id=campaign.pk))
        assert len(attempts) == len(FIRST) and len({a.lead_id for a in attempts}) == len(FIRST)
        assert {a.status for a in attempts} == {Status.COMPLETED}, [a.status for a in attempts]
        home = {ann_phone.user_id: (pbx.server.pk, acme.pk),
                ben_phone.user_id: (pbx_b.server.pk, bravo.pk)}
        # Each customer went out on its agent's server, through the campaign's carrier there.
        assert all((a.server_id, a.carrier_id) == home[a.agent_id] for a in attempts), [
            (a.server_id, a.carrier_id, a.agent_id) for a in attempts]
        per_server = {pk: sum(a.server_id == pk for a in attempts) for pk in aris}
        print(f"\ncalls per server: {per_server}")
        assert all(per_server.values()), per_server  # both servers dialled
        assert not any(a.abandoned for a in attempts)

        # Server B's Asterisk dies (kill -9: no hang-up, no last event): its agent's session
        # stays as it was, nothing more is launched there, server A goes on alone.
        os.kill(pbx_b.instance.pid, signal.SIGKILL)
        wait_for(lambda: "no calls are launched there" in dialer.output(), timeout=10,
                 what="run_dialer noticing server B's event stream is gone")
        # The supervisor's dialer page says so, from the worker's heartbeat.
        supervisor = django_user_model.objects.create_user(username="sue", password="pw-sue")
        supervisor.groups.add(Group.objects.get(name="Supervisor"))
        boss = Client()
        boss.force_login(supervisor)
        page = reverse("telephony:campaign_dialer_live", args=[campaign.pk])
        seen = {}

        def named() -> bool:
            seen["page"] = boss.get(page).content.decode()
            return "Server integration-b: no dialer worker has its ARI events" in seen["page"]

        try:
            wait_for(named, timeout=5, what="the dialer page naming the server that is down")
        except AssertionError:
            print(list(DialerWorker.objects.values()), seen["page"][-4000:])
            raise
        assert AgentSession.objects.get(agent=ben_phone.user).is_live
        lead_list = LeadList.objects.get(campaign=campaign)
        Lead.objects.bulk_create([Lead(campaign=campaign, lead_list=lead_list, phone_number=n,
                                       timezone="UTC") for n in AFTER])
        _floor_until(clients, aris,
                     lambda: not Lead.objects.filter(phone_number__in=AFTER,
                                                     state=Lead.State.NEW).exists()
                     and not DialAttempt.objects.filter(ended_at__isnull=True).exists()
                     and not AgentSession.objects.filter(agent=ann_phone.user,
                                                         state__in=[State.ON_CALL,
                                                                    State.WRAP_UP]).exists())
        later = list(DialAttempt.objects.filter(phone_number__in=AFTER))
        assert len(later) == len(AFTER)
        assert {(a.server_id, a.agent_id, a.status) for a in later} == {
            (pbx.server.pk, ann_phone.user_id, Status.COMPLETED)}
        invites = carrier_invites(carrier_uas)
        assert sorted(invites.values()) == [1] * (len(FIRST) + len(AFTER)), invites
    finally:
        dialer.stop()
        for client in aris.values():
            client.close()
        print("\n--- run_dialer output (tail) ---\n" + dialer.output()[-3000:])
