"""DNC lists: numbers kept in E.164 with when/who/why, leads moved to DNC at once, import
and export."""

from __future__ import annotations

import pytest

from telephony.calling.rules import Reason, lead_callable
from telephony.models import DncEntry, Lead
from telephony.services.campaign_errors import CampaignServiceError
from telephony.services.dnc import dnc_add, dnc_export, dnc_import
from telephony.tests.campaign_helpers import lead_for, running_campaign, utc

pytestmark = pytest.mark.django_db


def test_a_number_added_in_any_format_is_kept_in_e164_with_who_and_why(admin_user):
    entry, created = dnc_add(number="(212) 555-0100", reason="Asked on the phone",
                             user=admin_user)

    assert created
    assert (entry.number, entry.campaign, entry.reason, entry.added_by) == \
        ("+12125550100", None, "Asked on the phone", admin_user)
    assert entry.added_at is not None
    again, created_again = dnc_add(number="+1 212 555 0100")
    assert (again.pk, created_again) == (entry.pk, False)


def test_adding_a_number_moves_its_leads_to_dnc_at_once():
    spring, autumn = running_campaign("Spring"), running_campaign("Autumn")
    in_spring, in_autumn = lead_for(spring), lead_for(autumn)

    dnc_add(number="+12125550100", campaign=spring)
    in_spring.refresh_from_db()
    in_autumn.refresh_from_db()
    assert (in_spring.state, in_autumn.state) == (Lead.State.DNC, Lead.State.NEW)

    dnc_add(number="+12125550100")  # global
    in_autumn.refresh_from_db()
    assert in_autumn.state == Lead.State.DNC
    assert lead_callable(in_autumn, utc(2026, 6, 1, 16)) == (False, Reason.DNC)


@pytest.mark.parametrize("raw", ["555-CALL-NOW", "+1 (212) 555-01", "", "12\r\n34", None])
def test_a_bad_number_is_refused_and_nothing_is_added(raw):
    with pytest.raises(CampaignServiceError):
        dnc_add(number=raw)
    assert not DncEntry.objects.exists()


def test_an_import_adds_the_good_numbers_and_reports_every_bad_line(admin_user):
    campaign = running_campaign("Spring")
    lead = lead_for(campaign, "+12125550101")
    DncEntry.objects.create(number="+12125550102", campaign=campaign)
    upload = [b"\xef\xbb\xbfnumber\n", b"+12125550101\n", b"(212) 555-0102\n",
              b"555-CALL-NOW\n", b"'+12125550103\n", b"+1 (212) 555-01\n", b"212 555 0101\n"]

    result = dnc_import(upload=upload, campaign=campaign, reason="Complaint list",
                        user=admin_user)

    assert (result.added, result.already_listed) == (2, 1)
    assert [(line, reason) for line, _value, reason in result.rejected] == [
        (4, "The phone number contains letters."), (6, "The phone number has too few digits.")]
    assert set(DncEntry.objects.filter(campaign=campaign, source="import")
               .values_list("number", flat=True)) == {"+12125550101", "+12125550103"}
    lead.refresh_from_db()
    assert lead.state == Lead.State.DNC


def test_a_dry_run_import_writes_nothing():
    result = dnc_import(upload=[b"+12125550101\n"], campaign=None, dry_run=True)
    assert result.added == 1 and not DncEntry.objects.exists()


def test_the_export_neutralises_formula_cells(admin_user):
    dnc_add(number="+12125550100", reason="=HYPERLINK(\"http://x\")", user=admin_user)

    lines = "".join(dnc_export(campaign=None)).splitlines()

    assert lines[0] == "number,scope,reason,source,added_by,added_at"
    assert lines[1].startswith("'+12125550100,global,\"'=HYPERLINK(")


def test_an_export_imports_back_unchanged():
    source, target = running_campaign("Source"), running_campaign("Target")
    for number in ("+12125550100", "+442079460958"):
        dnc_add(number=number, campaign=source)
    exported = "".join(dnc_export(campaign=source)).encode().splitlines(keepends=True)

    result = dnc_import(upload=exported, campaign=target)

    assert (result.added, result.rejected) == (2, [])
    assert set(target.dnc_entries.values_list("number", flat=True)) == {"+12125550100",
                                                                       "+442079460958"}
