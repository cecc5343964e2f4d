"""The supervisor's lead import (upload, column mapping, dry run, polled progress, import) and
the agent's wrap-up, in headless Chromium."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import browser_login
from telephony.models import Call, Disposition, Lead, LeadImport, LeadList
from telephony.services.campaigns import dispositions_create_defaults
from telephony.services.lead_import import lead_import_run
from telephony.tests.campaign_helpers import lead_for, running_campaign

pytestmark = pytest.mark.browser

# Excel in a European locale: semicolons, a header the mapping must guess, an extra column
# kept for the agent, a bad number and a duplicate.
CSV = ("Telefon;Vorname;Nachname;Konto;Notiz\n"
       "(212) 555-0101;Jürgen;Müller;A-1;intern\n"
       "212-555-0102;Ana;López;A-2;intern\n"
       "555-CALL-NOW;Bad;Row;A-3;\n"
       "+1 212 555 0101;Again;Same;A-4;\n")


def _worker_runs(import_id: int) -> LeadImport:
    """What `manage.py db_worker` does with the queued job (no worker runs in tests)."""
    return lead_import_run(import_id=import_id)


def test_a_supervisor_maps_dry_runs_and_imports_a_semicolon_file(page, supervisor, tmp_path,
                                                                 settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    campaign = running_campaign("Spring", default_timezone="America/Chicago")
    lead_list = LeadList.objects.create(campaign=campaign, name="June")
    upload = tmp_path / "leads.csv"
    upload.write_text(CSV, encoding="utf-8-sig")  # with the BOM Excel writes

    browser_login(page, "sam", "pw-sam-123")
    page.goto(f"{page.base_url}/telephony/lists/{lead_list.pk}/import/")
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload and preview").click()

    # The mapping step: the separator recognised, the header guessed, the preview shown.
    expect(page.get_by_role("heading", name="Map the columns of leads.csv")).to_be_visible()
    expect(page.get_by_text(re.compile("separated by “;”"))).to_be_visible()
    expect(page.get_by_label("The first row is a header")).to_be_checked()
    preview = page.locator("#preview tbody")
    expect(preview).to_contain_text("Jürgen")
    expect(preview).to_contain_text("555-CALL-NOW")
    selects = page.locator("#preview thead select")
    expect(selects).to_have_count(5)
    chosen = [select.evaluate("s => s.value") for select in selects.all()]
    assert chosen == ["phone", "first_name", "last_name", "extra", "extra"]
    page.get_by_label("Notiz").select_option(label="Ignore")  # the supervisor's own choice
    page.get_by_role("button", name="Dry run (count, write nothing)").click()

    # The progress page polls: the job runs while the page is open and the page follows it.
    expect(page.get_by_role("heading", name=re.compile("^Dry run of leads.csv"))).to_be_visible()
    lead_import = LeadImport.objects.get(lead_list=lead_list)
    assert lead_import.status == LeadImport.Status.QUEUED
    _worker_runs(lead_import.pk)
    expect(page.locator('[data-field="status_label"]')).to_have_text("Done", timeout=10_000)
    expect(page.locator('[data-field="message"]')).to_have_text(
        "2 new, 1 duplicates, 1 rejected. Nothing was written.")
    rows_not_added = page.locator("table").last
    expect(rows_not_added).to_contain_text("The phone number contains letters.")
    expect(rows_not_added).to_contain_text("+12125550101")
    assert not Lead.objects.exists()

    page.get_by_role("button", name="Import it now").click()
    expect(page.get_by_role("heading", name=re.compile("^Import of leads.csv"))).to_be_visible()
    real = LeadImport.objects.filter(lead_list=lead_list, dry_run=False).get()
    _worker_runs(real.pk)
    expect(page.locator('[data-field="status_label"]')).to_have_text("Done", timeout=10_000)
    expect(page.locator('[data-field="imported"]')).to_have_text("2")
    expect(page.get_by_role("progressbar", name="Import progress")).to_have_attribute(
        "aria-valuenow", "100")
    leads = {lead.phone_number: lead for lead in Lead.objects.filter(lead_list=lead_list)}
    assert set(leads) == {"+12125550101", "+12125550102"}
    assert leads["+12125550101"].first_name == "Jürgen"
    assert leads["+12125550101"].data == {"Konto": "A-1"}
    assert leads["+12125550101"].timezone == "America/New_York"


def test_a_bad_file_is_refused_on_the_upload_page_with_the_reason(page, supervisor, tmp_path,
                                                                  settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    lead_list = LeadList.objects.create(campaign=running_campaign("Spring"), name="June")
    binary = tmp_path / "leads.csv"
    binary.write_bytes(b"\x00\x01\x02PK\x03\x04" * 200)

    browser_login(page, "sam", "pw-sam-123")
    page.goto(f"{page.base_url}/telephony/lists/{lead_list.pk}/import/")
    page.get_by_label("CSV file").set_input_files(str(binary))
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.locator(".invalid-feedback, .alert-danger, .errorlist").first).to_be_visible()
    assert "/import/" in page.url
    assert not LeadImport.objects.exists()


def test_the_agent_picks_a_disposition_in_wrap_up_and_the_lead_follows(page, agent):
    campaign = running_campaign("Spring", agents=[agent], wrapup_seconds=60)
    dispositions_create_defaults(campaign=campaign)
    lead = lead_for(campaign, "+12125550100", state=Lead.State.IN_PROGRESS,
                    first_name="Ana", last_name="López", data={"Konto": "A-2"})
    call = Call.objects.create(user=agent, campaign=campaign, lead=lead, number=lead.phone_number,
                               status=Call.Status.COMPLETED, ended_at=timezone.now())

    browser_login(page, "bob", "pw-bob-123")
    wrapup = page.locator("#wrapup")
    expect(wrapup).to_be_visible(timeout=10_000)
    expect(wrapup.locator("[data-lead]")).to_contain_text("Ana López")
    expect(wrapup.locator("[data-lead]")).to_contain_text("Konto: A-2")
    expect(wrapup.locator("[data-message]")).to_have_text("Wrap-up: pick within 60 s.")

    choice = page.get_by_label("How did the call end?")
    choice.select_option(label="Call back")
    expect(page.get_by_label("Call back at (the lead's local time)")).to_be_visible()
    choice.select_option(label="Not interested")
    expect(page.get_by_label("Call back at (the lead's local time)")).to_be_hidden()
    page.get_by_label("Notes").fill("Has a contract until May.")
    page.get_by_role("button", name="Save disposition").click()

    expect(wrapup).to_be_hidden(timeout=10_000)
    lead.refresh_from_db()
    assert lead.state == Lead.State.FINAL
    assert lead.disposition == Disposition.objects.get(campaign=campaign, name="Not interested")
    assert call.disposition_record.notes == "Has a contract until May."
