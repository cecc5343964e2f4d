"""The campaign's "dialable now / blocked and why" counts, the dialer's claim, and attempt
records: all the same decision as lead_callable."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from telephony.calling.presets import PRESETS
from telephony.calling.rules import Reason, lead_callable
from telephony.calling.selection import dialable_leads, lead_counts
from telephony.models import CallingRules, DncEntry, Lead, LeadList
from telephony.services.leads import lead_attempt_record, lead_release, leads_claim
from telephony.tests.campaign_helpers import lead_for, running_campaign, utc

pytestmark = pytest.mark.django_db
AT = utc(2026, 6, 1, 16, 0)  # 12:00 New York, 09:00 Los Angeles, 17:00 London


def mixed_leads(campaign, offset: int = 0) -> list[Lead]:
    n = 100 + offset * 20
    number = lambda k: f"+1212555{n + k:04d}"  # noqa: E731
    leads = [
        lead_for(campaign, number(0)),
        lead_for(campaign, number(1), state=Lead.State.INVALID),
        lead_for(campaign, number(2)),
        lead_for(campaign, number(3), attempts=5),
        lead_for(campaign, number(4), state=Lead.State.RETRY,
                 next_eligible_at=AT + datetime.timedelta(hours=1)),
        lead_for(campaign, number(5), state=Lead.State.CALLBACK,
                 next_eligible_at=AT + datetime.timedelta(days=1)),
        lead_for(campaign, number(6), timezone="Asia/Tokyo"),  # 01:00 there
        lead_for(campaign, number(7), day_attempts=3, day_attempts_date=datetime.date(2026, 6, 1)),
        lead_for(campaign, number(8), state=Lead.State.FINAL),
        lead_for(campaign, number(9), state=Lead.State.RETRY, attempts=1,
                 next_eligible_at=AT - datetime.timedelta(minutes=1)),
    ]
    DncEntry.objects.create(number=number(2), campaign=None)
    return leads


def test_the_counts_give_each_lead_the_reason_lead_callable_gives():
    campaign = running_campaign("Spring")
    leads = mixed_leads(campaign)

    counts = lead_counts(campaign, AT)

    expected: dict[str, int] = {reason.value: 0 for reason in Reason}
    for lead in Lead.objects.filter(campaign=campaign):
        expected[lead_callable(lead, AT)[1]] += 1
    assert counts == expected
    assert counts["dialable"] == 2 and counts["dnc"] == 1 and counts["outside_window"] == 1
    assert sum(counts.values()) == len(leads)


def test_the_counts_agree_with_lead_callable_under_the_florida_24_hour_limit():
    campaign = running_campaign("Spring", max_attempts_per_day=5,
                                calling_rules=CallingRules.objects.create(
                                    name="FL", **PRESETS["us_fl"].as_fields()))
    mixed_leads(campaign)
    stamps = [int((AT - datetime.timedelta(hours=h)).timestamp()) for h in (1, 2, 3)]
    over = lead_for(campaign, "+13055550100", state=Lead.State.RETRY, attempts=3,
                    recent_attempts=stamps, last_attempt_at=AT - datetime.timedelta(hours=1))
    under = lead_for(campaign, "+13055550101", state=Lead.State.RETRY, attempts=2,
                     recent_attempts=stamps[:2], last_attempt_at=AT - datetime.timedelta(hours=1))

    counts = lead_counts(campaign, AT)

    expected: dict[str, int] = {reason.value: 0 for reason in Reason}
    for lead in Lead.objects.filter(campaign=campaign).select_related("campaign"):
        lead.campaign = campaign
        expected[lead_callable(lead, AT)[1]] += 1
    assert counts == expected
    assert lead_callable(over, AT)[1] == Reason.RECENT_LIMIT
    assert lead_callable(under, AT)[1] == Reason.DIALABLE


def test_the_counts_run_a_constant_number_of_queries():
    campaign = running_campaign("Spring")
    mixed_leads(campaign)
    with CaptureQueriesContext(connection) as few:
        lead_counts(campaign, AT)
    for offset in range(1, 6):
        mixed_leads(campaign, offset)
    with CaptureQueriesContext(connection) as many:
        lead_counts(campaign, AT)
    assert len(many) == len(few) <= 3


def test_dialable_leads_is_exactly_the_leads_lead_callable_allows():
    campaign = running_campaign("Spring")
    mixed_leads(campaign)
    off = LeadList.objects.create(campaign=campaign, name="Off", is_active=False)
    lead_for(campaign, "+12125559999", lead_list=off)

    chosen = set(dialable_leads(campaign, AT).values_list("pk", flat=True))

    allowed = {lead.pk for lead in Lead.objects.filter(campaign=campaign)
               if lead_callable(lead, AT)[0]}
    assert chosen == allowed and len(chosen) == 2


def test_two_claims_never_get_the_same_lead():
    campaign = running_campaign("Spring")
    mixed_leads(campaign)

    first = leads_claim(campaign=campaign, at=AT, limit=1, claimed_by="dialer-1")
    second = leads_claim(campaign=campaign, at=AT, limit=5, claimed_by="dialer-2")
    third = leads_claim(campaign=campaign, at=AT, limit=5, claimed_by="dialer-3")

    assert len(first) == 1 and len(second) == 1 and third == []
    assert first[0].pk != second[0].pk
    assert Lead.objects.get(pk=first[0].pk).state == Lead.State.IN_PROGRESS
    lead_release(lead=first[0])
    assert [lead.pk for lead in leads_claim(campaign=campaign, at=AT, limit=5,
                                            claimed_by="dialer-3")] == [first[0].pk]


def test_an_attempt_schedules_the_retry_per_outcome_then_exhausts():
    campaign = running_campaign("Spring", max_attempts=2, retry_busy_minutes=15)
    lead = lead_for(campaign, timezone="America/Los_Angeles")

    lead = lead_attempt_record(lead=lead, outcome="busy", at=AT)
    assert (lead.state, lead.attempts, lead.day_attempts, lead.last_outcome) == \
        (Lead.State.RETRY, 1, 1, "busy")
    assert lead.next_eligible_at == AT + datetime.timedelta(minutes=15)
    assert lead.day_attempts_date == datetime.date(2026, 6, 1)  # Los Angeles' date
    assert lead_callable(lead, AT)[1] == Reason.RETRY_WAIT

    lead = lead_attempt_record(lead=lead, outcome="no_answer", at=AT + datetime.timedelta(hours=1))
    assert (lead.state, lead.attempts) == (Lead.State.EXHAUSTED, 2)
    assert len(lead.recent_attempts) == 2


def test_an_answered_attempt_waits_for_the_agents_disposition():
    campaign = running_campaign("Spring")
    lead = lead_attempt_record(lead=lead_for(campaign), outcome="answered", at=AT)
    assert lead.state == Lead.State.IN_PROGRESS and lead.attempts == 1


def test_another_campaigns_dnc_list_does_not_block_and_this_ones_does():
    spring, autumn = running_campaign("Spring"), running_campaign("Autumn")
    mine = lead_for(spring, "+12125550301")
    theirs = lead_for(spring, "+12125550302")
    lead_for(spring, "+12125550303")
    DncEntry.objects.create(number=mine.phone_number, campaign=spring)
    DncEntry.objects.create(number=theirs.phone_number, campaign=autumn)

    counts = lead_counts(spring, AT)
    dialable = set(dialable_leads(spring, AT).values_list("phone_number", flat=True))

    assert counts["dnc"] == 1 and counts["dialable"] == 2
    assert dialable == {"+12125550302", "+12125550303"}
    assert [lead_callable(lead, AT)[1] for lead in (mine, theirs)] == [Reason.DNC,
                                                                       Reason.DIALABLE]
