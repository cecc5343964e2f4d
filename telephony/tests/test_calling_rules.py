"""lead_callable: one decision, in the lead's own local time, across both DST changes."""

from __future__ import annotations

import datetime

import pytest

from telephony.calling.presets import PRESETS
from telephony.calling.rules import Reason, lead_callable
from telephony.models import BlockedDate, CallingRules, DncEntry, Lead
from telephony.tests.campaign_helpers import lead_for, running_campaign, utc

pytestmark = pytest.mark.django_db
LA, PHOENIX = "America/Los_Angeles", "America/Phoenix"


@pytest.fixture
def campaign():
    return running_campaign("Spring")


@pytest.mark.parametrize("at, expected", [
    # Saturday 7 March 2026, Pacific Standard Time (UTC-8)
    (utc(2026, 3, 8, 4, 59), Reason.DIALABLE),       # 20:59 PST
    (utc(2026, 3, 8, 5, 0), Reason.OUTSIDE_WINDOW),  # 21:00 PST
    # Sunday 8 March 2026, after the spring change: Pacific Daylight Time (UTC-7)
    (utc(2026, 3, 9, 3, 59), Reason.DIALABLE),       # 20:59 PDT
    (utc(2026, 3, 9, 4, 0), Reason.OUTSIDE_WINDOW),  # 21:00 PDT
    (utc(2026, 3, 8, 14, 59), Reason.OUTSIDE_WINDOW),  # 07:59 PDT
    (utc(2026, 3, 8, 15, 0), Reason.DIALABLE),        # 08:00 PDT
    # Sunday 1 November 2026, after the autumn change: back to PST (UTC-8)
    (utc(2026, 11, 2, 4, 59), Reason.DIALABLE),      # 20:59 PST
    (utc(2026, 11, 2, 5, 0), Reason.OUTSIDE_WINDOW),  # 21:00 PST
    (utc(2026, 10, 31, 3, 59), Reason.DIALABLE),     # Friday 20:59 PDT
    (utc(2026, 10, 31, 4, 0), Reason.OUTSIDE_WINDOW),  # Friday 21:00 PDT
])
def test_a_los_angeles_lead_is_called_until_21_00_local_across_dst(at, expected, campaign):
    lead = lead_for(campaign, "+13105550100", timezone=LA)

    assert lead_callable(lead, at) == (expected == Reason.DIALABLE, expected)


@pytest.mark.parametrize("at, la, phoenix", [
    # Summer: Phoenix (MST all year, UTC-7) has the same clock as Los Angeles (PDT).
    (utc(2026, 7, 1, 3, 30), True, True),    # both 20:30
    (utc(2026, 7, 1, 4, 0), False, False),   # both 21:00
    # Winter: Los Angeles falls back to UTC-8, Phoenix does not move.
    (utc(2026, 11, 2, 4, 30), True, False),  # LA 20:30, Phoenix 21:30
    (utc(2026, 12, 1, 15, 30), False, True),  # LA 07:30, Phoenix 08:30
])
def test_an_arizona_lead_keeps_its_clock_when_california_changes(at, la, phoenix, campaign):
    la_lead = lead_for(campaign, "+13105550100", timezone=LA)
    az_lead = lead_for(campaign, "+16025550100", timezone=PHOENIX)

    assert lead_callable(la_lead, at)[0] is la
    assert lead_callable(az_lead, at)[0] is phoenix


def test_the_same_instant_is_open_in_new_york_and_closed_in_los_angeles(campaign):
    at = utc(2026, 6, 1, 12, 30)  # 08:30 New York, 05:30 Los Angeles
    assert lead_callable(lead_for(campaign, "+12125550100"), at) == (True, Reason.DIALABLE)
    assert lead_callable(lead_for(campaign, "+13105550100", timezone=LA), at) == \
        (False, Reason.OUTSIDE_WINDOW)


def test_a_lead_on_the_global_or_its_campaigns_dnc_list_is_never_called(campaign):
    other = running_campaign("Other")
    lead = lead_for(campaign, "+12125550100")
    at = utc(2026, 6, 1, 16, 0)
    DncEntry.objects.create(number="+12125550100", campaign=other)
    assert lead_callable(lead, at) == (True, Reason.DIALABLE)  # another campaign's list

    DncEntry.objects.create(number="+12125550100", campaign=campaign)
    assert lead_callable(lead, at) == (False, Reason.DNC)
    DncEntry.objects.all().delete()
    DncEntry.objects.create(number="+12125550100", campaign=None)
    assert lead_callable(lead, at) == (False, Reason.DNC)


@pytest.mark.parametrize("fields, reason", [
    ({"state": Lead.State.INVALID}, Reason.INVALID),
    ({"state": Lead.State.FINAL}, Reason.FINAL),
    ({"state": Lead.State.EXHAUSTED}, Reason.EXHAUSTED),
    ({"state": Lead.State.IN_PROGRESS}, Reason.IN_PROGRESS),
    ({"attempts": 5}, Reason.EXHAUSTED),
    ({"state": Lead.State.RETRY, "next_eligible_at": utc(2026, 6, 1, 16, 30)},
     Reason.RETRY_WAIT),
    ({"state": Lead.State.CALLBACK, "next_eligible_at": utc(2026, 6, 1, 18, 0)},
     Reason.CALLBACK),
    ({"state": Lead.State.CALLBACK, "next_eligible_at": utc(2026, 6, 1, 15, 0)},
     Reason.DIALABLE),
    ({"day_attempts": 3, "day_attempts_date": datetime.date(2026, 6, 1)}, Reason.DAILY_LIMIT),
    ({"day_attempts": 3, "day_attempts_date": datetime.date(2026, 5, 31)}, Reason.DIALABLE),
])
def test_each_state_and_limit_gives_its_reason(fields, reason, campaign):
    lead = lead_for(campaign, **fields)
    assert lead_callable(lead, utc(2026, 6, 1, 16, 0)) == (reason == Reason.DIALABLE, reason)


def test_the_daily_limit_counts_the_leads_local_date_not_utcs(campaign):
    # 23:30 on 1 June in Los Angeles is already 2 June in UTC: the 3 calls were "today".
    lead = lead_for(campaign, "+13105550100", timezone=LA, day_attempts=3,
                    day_attempts_date=datetime.date(2026, 6, 1))
    campaign.calling_rules = CallingRules.objects.create(
        name="Late", start_time=datetime.time(8), end_time=datetime.time(23, 59))
    assert lead_callable(lead, utc(2026, 6, 2, 6, 30)) == (False, Reason.DAILY_LIMIT)


def test_weekdays_and_blocked_dates_are_evaluated_on_the_leads_local_date(campaign):
    rules = CallingRules.objects.create(name="Weekdays", weekdays="12345")
    BlockedDate.objects.create(rules=rules, date=datetime.date(2026, 7, 3),
                               description="Independence Day observed")
    campaign.calling_rules = rules
    campaign.save()
    lead = Lead.objects.get(pk=lead_for(campaign).pk)

    assert lead_callable(lead, utc(2026, 7, 2, 16, 0))[1] == Reason.DIALABLE  # Thursday
    assert lead_callable(lead, utc(2026, 7, 3, 16, 0))[1] == Reason.BLOCKED_DATE
    assert lead_callable(lead, utc(2026, 7, 4, 16, 0))[1] == Reason.OUTSIDE_WINDOW  # Saturday


def test_the_florida_preset_allows_three_calls_in_24_hours(campaign):
    rules = CallingRules.objects.create(name="Florida", **PRESETS["us_fl"].as_fields())
    campaign.calling_rules = rules
    campaign.max_attempts_per_day = 5
    at = utc(2026, 6, 2, 16, 0)
    stamps = [int((at - datetime.timedelta(hours=hours)).timestamp()) for hours in (2, 10, 20)]
    lead = lead_for(campaign, "+13055550100", recent_attempts=stamps)
    lead.campaign = campaign
    assert lead_callable(lead, at) == (False, Reason.RECENT_LIMIT)

    lead.recent_attempts = stamps[:2] + [int((at - datetime.timedelta(hours=25)).timestamp())]
    assert lead_callable(lead, at) == (True, Reason.DIALABLE)
    assert lead_callable(lead, utc(2026, 6, 3, 0, 30)) == (False, Reason.OUTSIDE_WINDOW)  # 20:30


def test_the_uk_preset_blocks_a_machine_dropped_lead_for_72_hours(campaign):
    campaign.calling_rules = CallingRules.objects.create(name="UK",
                                                         **PRESETS["uk_ofcom"].as_fields())
    campaign.default_timezone = "Europe/London"
    lead = lead_for(campaign, "+442079460958", timezone="Europe/London",
                    last_machine_drop_at=utc(2026, 6, 1, 10, 0))
    lead.campaign = campaign

    assert lead_callable(lead, utc(2026, 6, 4, 9, 0)) == (False, Reason.MACHINE_BLOCK)
    assert lead_callable(lead, utc(2026, 6, 4, 10, 0)) == (True, Reason.DIALABLE)


def test_a_lead_of_a_switched_off_list_is_not_called(campaign):
    lead = lead_for(campaign)
    lead.lead_list.is_active = False
    lead.lead_list.save()
    assert lead_callable(Lead.objects.get(pk=lead.pk), utc(2026, 6, 1, 16, 0)) == \
        (False, Reason.LIST_INACTIVE)


def test_a_window_that_ends_before_it_starts_is_refused():
    from django.core.exceptions import ValidationError

    rules = CallingRules(name="Backwards", start_time=datetime.time(21),
                         end_time=datetime.time(8))
    with pytest.raises(ValidationError) as error:
        rules.full_clean()
    assert "end after it starts" in str(error.value)
