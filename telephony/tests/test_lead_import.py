"""CSV import of leads: preview and mapping, E.164 + line type + zone, duplicates, every
rejected row in one round, dry run, big files in batches, cancel and resume."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from telephony.models import DncEntry, Lead, LeadImport, LeadImportIssue, LeadList
from telephony.services.campaign_errors import CampaignServiceError
from telephony.services.lead_csv import TEMPLATE
from telephony.services.lead_import import (
    lead_import_cancel,
    lead_import_claim,
    lead_import_configure,
    lead_import_preview,
    lead_import_progress,
    lead_import_resume,
    lead_import_run,
    lead_import_start,
    lead_import_step,
    lead_import_upload,
    lead_imports_resume_stale,
)
from telephony.tests.campaign_helpers import lead_for, running_campaign

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def lead_list():
    campaign = running_campaign("Spring", default_timezone="America/Chicago")
    return LeadList.objects.create(campaign=campaign, name="June")


def upload(lead_list, content: bytes | str, name: str = "leads.csv") -> LeadImport:
    data = content.encode() if isinstance(content, str) else content
    return lead_import_upload(lead_list=lead_list, upload=SimpleUploadedFile(name, data))


def run(lead_import: LeadImport, *, dry_run: bool = False, **kwargs) -> LeadImport:
    lead_import_start(lead_import=lead_import, dry_run=dry_run)
    return lead_import_run(import_id=lead_import.pk, **kwargs)


def issues(lead_import: LeadImport) -> list[tuple]:
    return list(LeadImportIssue.objects.filter(lead_import=lead_import)
                .values_list("line", "kind", "value", "reason"))


def test_the_template_imports_with_e164_line_type_and_zone_from_the_number(lead_list):
    done = run(upload(lead_list, TEMPLATE))

    assert (done.status, done.imported, done.rejected) == ("done", 2, 0)
    ada, alan = Lead.objects.order_by("source_line")
    assert (ada.phone_number, ada.first_name, ada.timezone, ada.timezone_guessed) == \
        ("+12125550100", "Ada", "America/New_York", False)
    assert ada.line_type == "fixed_or_mobile"
    assert ada.data == {"account_id": "A-1001"}
    assert (alan.phone_number, alan.timezone, alan.source_line) == \
        ("+12135550199", "America/Los_Angeles", 3)
    assert ada.state == Lead.State.NEW and ada.lead_import == done


def test_every_rejected_row_is_reported_with_its_line_value_and_reason(lead_list):
    content = ("phone,first_name,timezone\n"
               "555-CALL-NOW,Letters,\n"
               "+1 (212) 555-01,Short,\n"
               "00 49 30 1234567,Idd,\n"
               "+12125550100,Mars,Mars/Olympus\n"
               ",Empty,\n"
               "+12125550101,Good,\n")

    done = run(upload(lead_list, content))

    assert (done.imported, done.rejected) == (1, 5)
    assert [(line, value) for line, _kind, value, _reason in issues(done)] == [
        (2, "555-CALL-NOW"), (3, "+1 (212) 555-01"), (4, "00 49 30 1234567"),
        (5, "Mars/Olympus"), (6, "")]
    reasons = [reason for *_rest, reason in issues(done)]
    assert reasons[0] == "The phone number contains letters."
    assert reasons[1] == "The phone number has too few digits."
    assert "Write international numbers with +" in reasons[2]
    assert reasons[3].startswith("Unknown time zone 'Mars/Olympus'")
    assert reasons[4] == "No phone number."


def test_a_list_read_in_germany_takes_00_as_the_international_prefix():
    campaign = running_campaign("Berlin", default_timezone="Europe/Berlin")
    lead_list = LeadList.objects.create(campaign=campaign, name="DE", default_region="DE")
    run(upload(lead_list, "phone\n00 49 30 1234567\n030 1234568\n"))
    assert set(Lead.objects.values_list("phone_number", "timezone")) == {
        ("+49301234567", "Europe/Berlin"), ("+49301234568", "Europe/Berlin")}


def test_duplicates_in_the_file_and_in_the_campaign_are_reported_not_added(lead_list):
    lead_for(lead_list.campaign, "+12125550199", lead_list=lead_list)
    content = "phone\n+12125550100\n(212) 555-0100\n+12125550199\n212.555.0101\n"

    done = run(upload(lead_list, content), batch_size=2)  # the repeat is in the next batch

    assert (done.imported, done.duplicates_in_file, done.duplicates_in_campaign) == (2, 1, 1)
    assert [(line, kind) for line, kind, *_ in issues(done)] == [(3, "dup_file"),
                                                                (4, "dup_campaign")]
    assert Lead.objects.filter(phone_number="+12125550100").count() == 1


def test_a_number_on_a_dnc_list_is_imported_as_dnc(lead_list):
    DncEntry.objects.create(number="+12125550100")

    done = run(upload(lead_list, "phone\n+12125550100\n+12125550101\n"))

    assert done.on_dnc == 1
    assert Lead.objects.get(phone_number="+12125550100").state == Lead.State.DNC


def test_a_toll_free_number_gets_the_campaigns_zone_flagged(lead_list):
    done = run(upload(lead_list, "phone\n+18005550100\n"))

    lead = Lead.objects.get()
    assert (lead.timezone, lead.timezone_guessed, done.zones_guessed) == \
        ("America/Chicago", True, 1)


@pytest.mark.parametrize("content, delimiter", [
    ("phone;first_name;last_name\n+12125550100;Zoë;Ng\n", ";"),
    ("phone\tfirst_name\tlast_name\n+12125550100\tZoë\tNg\n", "\t"),
])
def test_semicolon_and_tab_files_are_recognised(content, delimiter, lead_list):
    lead_import = upload(lead_list, content)

    assert lead_import.delimiter == delimiter
    run(lead_import)
    assert Lead.objects.get().first_name == "Zoë"


def test_utf8_with_bom_and_latin1_rows_in_one_file_both_decode(lead_list):
    content = ("\ufeffphone,first_name\n+12125550100,José\n".encode()
               + "+12125550101,Müller\n".encode("latin-1"))

    run(upload(lead_list, content))

    assert sorted(Lead.objects.values_list("first_name", flat=True)) == ["José", "Müller"]


def test_formula_cells_exported_by_us_import_back_as_text(lead_list):
    run(upload(lead_list, "phone,first_name,notes\n'+12125550100,'=HYPERLINK(\"x\"),'@sum\n"))
    lead = Lead.objects.get()
    assert (lead.phone_number, lead.first_name, lead.data) == \
        ("+12125550100", '=HYPERLINK("x")', {"notes": "@sum"})


def test_the_preview_shows_the_first_rows_and_the_guessed_mapping(lead_list):
    lead_import = upload(lead_list, "Mobile,Surname,Given name,Account\n"
                                    "+12125550100,Lovelace,Ada,A1\n")

    preview = lead_import_preview(lead_import=lead_import)

    assert preview["columns"] == ["Mobile", "Surname", "Given name", "Account"]
    assert preview["rows"] == [["+12125550100", "Lovelace", "Ada", "A1"]]
    assert lead_import.mapping == {"phone": 0, "last_name": 1, "first_name": 2, "extra": [3]}


@pytest.mark.parametrize("header", [
    "Telefon;Vorname;Nachname;Zeitzone;Konto",      # German Excel
    "Téléphone;Prénom;Nom;Fuseau horaire;Compte",    # French, accents and a space
    "TELÉFONO;Nombre;Apellidos;Zona horaria;Cuenta",  # Spanish, upper case
])
def test_european_headers_are_recognised_with_or_without_accents(lead_list, header):
    lead_import = upload(lead_list, header + "\n+12125550100;Ada;Lovelace;;A1\n")

    assert lead_import.delimiter == ";"
    assert lead_import.mapping == {"phone": 0, "first_name": 1, "last_name": 2,
                                   "timezone": 3, "extra": [4]}


def test_a_file_without_a_header_is_mapped_by_its_values(lead_list):
    lead_import = upload(lead_list, "Ada,+12125550100\nAlan,+12135550199\n")

    assert not lead_import.has_header and lead_import.mapping["phone"] == 1
    assert run(lead_import).imported == 2


def test_a_file_with_no_phone_column_is_refused_at_the_mapping_step(lead_list):
    lead_import = upload(lead_list, "name,city\nAda,London\n")

    with pytest.raises(CampaignServiceError, match="phone numbers"):
        lead_import_configure(lead_import=lead_import, mapping={"first_name": 0},
                              has_header=True)
    with pytest.raises(CampaignServiceError, match="phone numbers"):
        lead_import_start(lead_import=lead_import, dry_run=True)
    assert not Lead.objects.exists()


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
])
def test_empty_and_binary_files_are_refused_and_nothing_is_stored(content, message, lead_list):
    with pytest.raises(CampaignServiceError, match=message):
        upload(lead_list, content)
    assert not LeadImport.objects.exists()


def test_a_file_over_the_limit_is_refused_before_it_is_read(lead_list, settings):
    settings.LEAD_IMPORT_MAX_MB = 1
    big = b"phone\n" + b"+12125550100\n" * 90_000  # about 1.2 MB

    with pytest.raises(CampaignServiceError, match="the limit is 1 MB"):
        upload(lead_list, big)
    assert not LeadImport.objects.exists()


def test_a_dry_run_counts_like_the_import_and_writes_nothing(lead_list):
    lead_for(lead_list.campaign, "+12125550199", lead_list=lead_list)
    content = "phone\n+12125550100\n+12125550100\n+12125550199\nnope\n+12125550101\n"

    done = run(upload(lead_list, content), dry_run=True, batch_size=2)

    assert (done.imported, done.duplicates_in_file, done.duplicates_in_campaign,
            done.rejected) == (2, 1, 1, 1)
    assert done.message == "2 new, 2 duplicates, 1 rejected. Nothing was written."
    assert Lead.objects.count() == 1


def _numbers(count: int) -> str:
    return "phone,first_name\n" + "".join(f"+1212{5550000 + index:07d},P{index}\n"
                                          for index in range(count))


def test_a_big_file_imports_in_batches_and_reports_progress(lead_list):
    lead_import = upload(lead_list, _numbers(2500))
    lead_import_start(lead_import=lead_import, dry_run=False)
    token = lead_import_claim(import_id=lead_import.pk)

    assert lead_import_step(import_id=lead_import.pk, token=token, batch_size=1000)

    progress = lead_import_progress(LeadImport.objects.get(pk=lead_import.pk))
    assert (progress["rows_total"], progress["rows_done"], progress["percent"],
            progress["status"]) == (2500, 1000, 40, "running")
    assert Lead.objects.count() == 1000


def test_a_cancel_stops_the_run_at_its_next_batch_and_resume_goes_on_from_there(lead_list):
    lead_import = upload(lead_list, _numbers(2500))
    lead_import_start(lead_import=lead_import, dry_run=False)
    token = lead_import_claim(import_id=lead_import.pk)
    lead_import_step(import_id=lead_import.pk, token=token, batch_size=1000)

    assert lead_import_cancel(lead_import=lead_import).status == "cancelling"
    assert not lead_import_step(import_id=lead_import.pk, token=token, batch_size=1000)
    cancelled = LeadImport.objects.get(pk=lead_import.pk)
    assert cancelled.status == "cancelled" and Lead.objects.count() == 1000

    lead_import_resume(lead_import=cancelled)
    done = lead_import_run(import_id=lead_import.pk, batch_size=1000)

    assert (done.status, done.imported, done.rows_done, done.duplicates_in_file) == \
        ("done", 2500, 2500, 0)
    assert Lead.objects.count() == 2500
    assert sorted(Lead.objects.values_list("source_line", flat=True)) == list(range(2, 2502))
    assert not done.file  # a finished import's file is deleted


def test_an_import_whose_worker_died_is_resumed_and_the_old_run_stops(lead_list, settings):
    lead_import = upload(lead_list, _numbers(2500))
    lead_import_start(lead_import=lead_import, dry_run=False)
    dead = lead_import_claim(import_id=lead_import.pk)
    lead_import_step(import_id=lead_import.pk, token=dead, batch_size=1000)
    # The worker was killed: no heartbeat for longer than JOB_STALE_SECONDS.
    LeadImport.objects.filter(pk=lead_import.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=settings.JOB_STALE_SECONDS + 1))

    assert lead_imports_resume_stale() == [lead_import.pk]
    new = lead_import_claim(import_id=lead_import.pk)
    assert not lead_import_step(import_id=lead_import.pk, token=dead, batch_size=1000)
    while lead_import_step(import_id=lead_import.pk, token=new, batch_size=1000):
        pass

    done = LeadImport.objects.get(pk=lead_import.pk)
    assert (done.status, done.imported) == ("done", 2500)
    assert Lead.objects.count() == 2500


def test_a_stalled_import_is_shown_so_and_cancelled_at_once(lead_list, settings, admin_client):
    lead_import = upload(lead_list, _numbers(2500))
    lead_import_start(lead_import=lead_import, dry_run=False)
    dead = lead_import_claim(import_id=lead_import.pk)
    lead_import_step(import_id=lead_import.pk, token=dead, batch_size=1000)
    LeadImport.objects.filter(pk=lead_import.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=settings.JOB_STALE_SECONDS + 1))
    lead_import.refresh_from_db()
    progress = lead_import_progress(lead_import)
    assert (progress["stale"], progress["status_label"]) == (True, "Stalled: the worker stopped")
    page = admin_client.get(reverse("telephony:lead_import_detail", args=[lead_import.pk]))
    text = page.content.decode()
    assert "Stalled: the worker stopped." in text and "the 1000 leads added so far stay" in text
    assert ">Cancel</button>" in text and ">Resume</button>" in text

    cancelled = lead_import_cancel(lead_import=lead_import)
    assert cancelled.status == "cancelled"  # not "cancelling": no worker would see it
    assert cancelled.message == "Cancelled after its worker stopped; resume to go on."
    assert not lead_import_step(import_id=lead_import.pk, token=dead, batch_size=1000)
    assert Lead.objects.count() == 1000  # the batch written before the worker died stays


def test_a_queued_import_cancelled_before_it_began_never_runs(lead_list):
    lead_import = upload(lead_list, _numbers(10))
    lead_import_start(lead_import=lead_import, dry_run=False)
    lead_import_cancel(lead_import=lead_import)

    assert lead_import_run(import_id=lead_import.pk) is None
    assert not Lead.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_a_queued_import(lead_list):
    from django.core.management import call_command

    lead_import = upload(lead_list, _numbers(30))
    lead_import_start(lead_import=lead_import, dry_run=False)  # enqueued on commit

    call_command("db_worker", batch=True, interval=0, startup_delay=False)

    done = LeadImport.objects.get(pk=lead_import.pk)
    assert (done.status, done.imported) == ("done", 30) and done.task_id


def test_a_big_import_refreshes_the_planner_statistics_on_postgresql(lead_list, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from telephony.services import lead_import as module

    monkeypatch.setattr(module, "ANALYZE_AFTER", 100)
    with CaptureQueriesContext(connection) as queries:
        done = run(upload(lead_list, _numbers(150)))

    assert done.imported == 150
    analyzed = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]
    if connection.vendor == "postgresql":
        assert analyzed == ['ANALYZE "telephony_lead"']
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'telephony_lead'")
            assert cursor.fetchone()[0] >= 150
    else:  # MariaDB's InnoDB recalculates by itself; SQLite plans without statistics
        assert analyzed == []
