"""A dialer call whose wrap-up ends without the agent's disposition (Ready, Pause, the campaign's
time limit, the phone hung up): the system's NODISPO seals the ledger row, the lead goes back to
the pool as a retry after the campaign's no-answer delay (or is used up), and the agent moves
on, all in one transaction. On the ARI fake, the worker's real step and the real events."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from telephony.calling.rules import Reason
from telephony.calling.selection import lead_counts
from telephony.dialer.sessions import agent_session_pause, agent_session_ready, wrapups_expire
from telephony.models import (
    AgentSession,
    CallDisposition,
    DialAttempt,
    Disposition,
    Lead,
    PauseCode,
)
from telephony.models.dialer_attempts import LedgerSealed
from telephony.services.dialer_live import campaign_live
from telephony.services.dispositions import disposition_save
from telephony.services.ledger_export import ledger_export
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.phone_helpers import failing_writes
from telephony.tests.test_dialer_worker import setup, tick  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db
State = AgentSession.State
NODISPO = Disposition.NO_DISPOSITION


@pytest.fixture
def floor(setup):  # noqa: F811 (the imported fixture)
    """Bob alone ready (Carol paused), so each tick dials one customer, for him."""
    line, campaign, leads, sessions, trunk = setup
    agent_session_pause(session=sessions[1],
                        pause_code=PauseCode.objects.create(code="break", name="Break"))
    return line, campaign


def talked(line, agent):
    """The worker dials, the customer answers, talks with `agent`, hangs up: wrap-up."""
    assert tick(line).launched == 1
    attempt = DialAttempt.objects.get(answered_at__isnull=True, closed_at__isnull=True)
    line.fake.answer(str(attempt.pk))
    line.deliver()
    line.fake.remote_hangup(str(attempt.pk), cause=16, cause_txt="Normal Clearing")
    line.deliver()
    session = AgentSession.objects.get(attempt_id=attempt.pk)
    assert (session.agent_id, session.state) == (agent.pk, State.WRAP_UP)
    lead = Lead.objects.get(pk=attempt.lead_id)
    assert (lead.state, lead.attempts) == (Lead.State.IN_PROGRESS, 1)  # the old stuck state
    return session, attempt


def assert_nodispo_and_retry(attempt, *, ended_at=None):
    attempt.refresh_from_db()
    assert (attempt.status, attempt.disposition) == (DialAttempt.Status.COMPLETED, NODISPO)
    assert attempt.closed_at is not None and attempt.wrap_seconds >= 0
    if ended_at is not None:
        assert attempt.closed_at == ended_at
    lead = Lead.objects.get(pk=attempt.lead_id)
    assert (lead.state, lead.claimed_by) == (Lead.State.RETRY, "")
    # The campaign's no-answer delay, from the end of the wrap-up, as a no-answer retry.
    assert lead.next_eligible_at == attempt.closed_at + datetime.timedelta(minutes=120)
    assert_nodispo_in_history(lead, agent_id=attempt.agent_id)
    return lead


def assert_nodispo_in_history(lead, *, agent_id):
    """The lead's disposition history says the wrap-up ended without one, by whom."""
    record = CallDisposition.objects.get(lead=lead)
    assert (record.system_code, record.disposition_id, record.campaign_id, record.agent_id) == (
        NODISPO, None, lead.campaign_id, agent_id)
    assert record.label == Disposition.NO_DISPOSITION_LABEL
    assert str(record).startswith(Disposition.NO_DISPOSITION_LABEL)


def test_ready_in_wrap_up_records_nodispo_and_gives_the_lead_back(floor, agent, agent_client):
    line, campaign = floor
    session, attempt = talked(line, agent)

    response = agent_client.post(reverse("telephony:agent_dialer_ready"))

    assert response.status_code == 302
    lead = assert_nodispo_and_retry(attempt)
    session.refresh_from_db()
    assert (session.state, session.attempt_id) == (State.READY, None)
    change = session.state_changes.order_by("-at", "-pk").first()
    assert (change.from_state, change.to_state, change.at) == (
        "wrap_up", "ready", attempt.closed_at)  # one moment: one transaction
    # The campaign page's counts: waiting for its retry, no longer "being called now".
    counts = lead_counts(campaign, timezone.now())
    assert counts[Reason.IN_PROGRESS] == 0
    assert counts[Reason.RETRY_WAIT] == 1
    assert not Lead.objects.filter(pk=lead.pk, state=Lead.State.IN_PROGRESS).exists()
    # The audit CSV says it in the disposition column.
    rows = "".join(ledger_export(campaign_id=campaign.pk)).splitlines()
    header = rows[0].split(",")
    mine = next(r.split(",") for r in rows[1:] if r.startswith(str(attempt.pk)))
    assert mine[header.index("disposition")] == NODISPO


def test_pause_in_wrap_up_records_nodispo_and_gives_the_lead_back(floor, agent, agent_client):
    line, _campaign = floor
    session, attempt = talked(line, agent)
    lunch = PauseCode.objects.create(code="lunch", name="Lunch")

    response = agent_client.post(reverse("telephony:agent_dialer_pause"),
                                 {"pause_code": lunch.pk})

    assert response.status_code == 302
    assert_nodispo_and_retry(attempt)
    session.refresh_from_db()
    assert (session.state, session.pause_code) == (State.PAUSED, lunch)


def test_the_wrap_up_time_limit_records_nodispo_and_gives_the_lead_back(floor, agent):
    line, campaign = floor
    campaign.wrapup_seconds = 30
    campaign.save()
    session, attempt = talked(line, agent)
    due = session.state_since + datetime.timedelta(seconds=31)

    assert wrapups_expire(now=due) == 1

    assert_nodispo_and_retry(attempt, ended_at=due)
    session.refresh_from_db()
    assert session.state == State.READY and session.state_since == due
    assert 30 < attempt.wrap_seconds < 32


def test_the_phone_hung_up_in_wrap_up_records_nodispo_and_gives_the_lead_back(floor, agent):
    line, _campaign = floor
    session, attempt = talked(line, agent)

    line.fake.remote_hangup(str(session.pk), cause=16, cause_txt="Normal Clearing")
    line.deliver()

    assert_nodispo_and_retry(attempt)
    session.refresh_from_db()
    assert session.state == State.LOGGED_OUT and session.ended_at is not None


def test_a_lead_with_its_attempts_used_up_is_exhausted(floor, agent, agent_client):
    line, campaign = floor
    campaign.max_attempts = 1
    campaign.save()
    _session, attempt = talked(line, agent)

    agent_client.post(reverse("telephony:agent_dialer_ready"))

    attempt.refresh_from_db()
    assert attempt.disposition == NODISPO
    assert Lead.objects.get(pk=attempt.lead_id).state == Lead.State.EXHAUSTED


def test_the_agents_disposition_wins_and_nothing_changes_after_nodispo(floor, agent,
                                                                       agent_client):
    line, campaign = floor
    sale = Disposition.objects.create(campaign=campaign, name="Sale", policy="final")
    _session, attempt = talked(line, agent)
    response = agent_client.post(reverse("telephony:attempt_disposition", args=[attempt.pk]),
                                 {"disposition_id": sale.pk}, content_type="application/json")
    assert response.status_code == 201, response.content
    attempt.refresh_from_db()
    assert attempt.disposition == "Sale"  # not NODISPO: the form sealed it first
    assert Lead.objects.get(pk=attempt.lead_id).state == Lead.State.FINAL
    # One history entry, the agent's: no NODISPO beside it.
    assert list(CallDisposition.objects.filter(lead_id=attempt.lead_id)
                .values_list("disposition__name", "system_code")) == [("Sale", "")]

    _other_session, second = talked(line, agent)
    agent_client.post(reverse("telephony:agent_dialer_ready"))
    second.refresh_from_db()
    late = agent_client.post(reverse("telephony:attempt_disposition", args=[second.pk]),
                             {"disposition_id": sale.pk}, content_type="application/json")
    assert (late.status_code, late.json()["code"]) == (409, "wrapup_over")
    second.disposition = "Sale"
    with pytest.raises(LedgerSealed):
        second.save()
    key = str(second.pk) if connection.vendor == "postgresql" else second.pk.hex
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {DialAttempt._meta.db_table} SET disposition = %s "
                       f"WHERE id = %s", ["Sale", key])
    second.refresh_from_db()
    assert second.disposition == NODISPO
    assert Lead.objects.get(pk=second.lead_id).state == Lead.State.RETRY


@pytest.mark.django_db(transaction=True)  # MariaDB commits around CREATE TRIGGER
def test_a_failing_lead_write_leaves_the_row_open_and_the_agent_in_wrap_up(floor, agent):
    line, _campaign = floor
    session, attempt = talked(line, agent)

    with failing_writes(Lead._meta.db_table, "UPDATE"), pytest.raises(DatabaseError):
        agent_session_ready(session=session)

    attempt.refresh_from_db()
    session.refresh_from_db()
    assert attempt.closed_at is None and attempt.disposition == ""
    assert (session.state, session.attempt_id) == (State.WRAP_UP, attempt.pk)
    assert not session.state_changes.filter(from_state="wrap_up").exists()
    assert Lead.objects.get(pk=attempt.lead_id).state == Lead.State.IN_PROGRESS
    assert not CallDisposition.objects.exists()  # no history entry without the rest


@pytest.mark.django_db(transaction=True)  # MariaDB commits around CREATE TRIGGER
def test_a_failing_history_write_leaves_the_row_open_and_the_agent_in_wrap_up(floor, agent):
    line, _campaign = floor
    session, attempt = talked(line, agent)

    with failing_writes(CallDisposition._meta.db_table, "INSERT"), \
            pytest.raises(DatabaseError):
        agent_session_ready(session=session)

    attempt.refresh_from_db()
    session.refresh_from_db()
    assert attempt.closed_at is None and attempt.disposition == ""
    assert (session.state, session.attempt_id) == (State.WRAP_UP, attempt.pk)
    assert Lead.objects.get(pk=attempt.lead_id).state == Lead.State.IN_PROGRESS
    # (Not sealed now, on purpose: the flush after a transactional test cannot delete a
    # sealed row, which is the ledger's rule.)


def test_nodispo_is_not_a_name_a_campaign_may_give_its_own_disposition(floor):
    _line, campaign = floor
    with pytest.raises(ValidationError):
        disposition_save(campaign=campaign, fields={"name": "nodispo ", "policy": "final"})


def test_a_history_entry_is_the_agents_or_the_systems_never_both_nor_neither(floor):
    """The check constraint, in the database itself (around the model, as a console would)."""
    _line, campaign = floor
    sale = Disposition.objects.create(campaign=campaign, name="Sale", policy="final")
    CallDisposition.objects.create(disposition=sale, campaign=campaign)
    CallDisposition.objects.create(system_code=NODISPO, campaign=campaign)
    for fields in ({"disposition": sale, "system_code": NODISPO}, {},
                   {"system_code": "OTHER"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            CallDisposition.objects.create(campaign=campaign, **fields)
    # The model says it too, in words (the admin's form runs this).
    with pytest.raises(ValidationError, match="set exactly one of them"):
        CallDisposition(campaign=campaign, disposition=sale, system_code=NODISPO).full_clean()
    assert CallDisposition.objects.count() == 2


def test_the_live_panel_counts_wrap_ups_ended_without_a_disposition(floor, agent,
                                                                    agent_client,
                                                                    supervisor_client):
    line, campaign = floor
    sale = Disposition.objects.create(campaign=campaign, name="Sale", policy="final")
    page = reverse("telephony:campaign_dialer_live", args=[campaign.pk])

    def counted() -> str:
        html = supervisor_client.get(page).content.decode()
        cell = html[html.index('id="calls-undisposed">') + len('id="calls-undisposed">'):]
        return cell[:cell.index("<")]

    assert counted() == "0 today, 0 in the window"
    _session, first = talked(line, agent)
    assert counted() == "0 today, 0 in the window"  # in wrap-up: not ended yet
    agent_client.post(reverse("telephony:agent_dialer_ready"))
    assert counted() == "1 today, 1 in the window"
    _session, second = talked(line, agent)
    agent_client.post(reverse("telephony:attempt_disposition", args=[second.pk]),
                      {"disposition_id": sale.pk}, content_type="application/json")
    assert counted() == "1 today, 1 in the window"  # the agent's disposition is not counted
    talked(line, agent)
    agent_client.post(reverse("telephony:agent_dialer_ready"))
    assert counted() == "2 today, 2 in the window"
    # Tomorrow they are yesterday's: still in the 30-day window, no longer today.
    tomorrow = campaign_live(campaign, now=timezone.now() + datetime.timedelta(days=1))
    assert (tomorrow.undisposed_today, tomorrow.undisposed_window) == (0, 2)
    campaign.abandon_window = "24h"
    campaign.save()
    later = campaign_live(campaign, now=timezone.now() + datetime.timedelta(days=2))
    assert (later.undisposed_today, later.undisposed_window) == (0, 0)


def test_the_admin_shows_nodispo_in_the_leads_history_in_words(floor, agent, agent_client,
                                                                admin_client):
    line, campaign = floor
    _session, attempt = talked(line, agent)
    agent_client.post(reverse("telephony:agent_dialer_ready"))
    lead = Lead.objects.get(pk=attempt.lead_id)

    page = admin_client.get(reverse("admin:telephony_lead_change", args=[lead.pk]))
    listing = admin_client.get(reverse("admin:telephony_calldisposition_changelist"),
                               {"system_code": NODISPO})

    assert page.status_code == listing.status_code == 200
    assert "Disposition history" in page.content.decode()
    for response in (page, listing):
        assert Disposition.NO_DISPOSITION_LABEL in response.content.decode()
    # The next agent's screen pop says it in words too (the ledger keeps the code).
    from telephony.dialer.screen import _lead

    earlier = _lead(lead, None)["previous"]
    assert [row["disposition"] for row in earlier] == [Disposition.NO_DISPOSITION_LABEL]


def test_the_admin_refuses_an_entry_with_neither_in_words_not_a_500(floor, admin_client):
    _line, campaign = floor
    sale = Disposition.objects.create(campaign=campaign, name="Sale", policy="final")
    record = CallDisposition.objects.create(disposition=sale, campaign=campaign)
    url = reverse("admin:telephony_calldisposition_change", args=[record.pk])

    response = admin_client.post(url, {"disposition": "", "system_code": "", "call": "",
                                       "lead": "", "campaign": campaign.pk, "agent": "",
                                       "notes": ""})

    assert response.status_code == 200
    assert "set exactly one of them" in response.content.decode()
    record.refresh_from_db()
    assert record.disposition_id == sale.pk
