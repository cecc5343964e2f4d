"""A big confirmed extensions import runs as a background job (django-tasks' db_worker) with
progress: it checks the file against the dry run, then writes in batches, each whole in its own
transaction; it can be cancelled between batches, and one whose worker died shows as stalled
and can be queued again or cancelled. Small imports stay in the request. Admins only."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from telephony.models import Phone, PhoneImportJob
from telephony.services import phone_csv, phone_import_job
from telephony.services.phone_csv import phone_csv_import
from telephony.services.phone_import_job import phone_import_run
from telephony.tests.phone_helpers import failing_writes
from telephony.tests.test_bulk_and_csv import snapshot

# Real commits: the worker takes the job from the task queue after the request committed it.
pytestmark = pytest.mark.django_db(transaction=True)

IMPORT = reverse("telephony:phone_import")
BACKGROUND_AFTER = settings.IMPORT_BACKGROUND_AFTER
BIG = BACKGROUND_AFTER + 100


def big_file(agent) -> bytes:
    """BIG new extensions (fixed secrets, so both paths' realtime rows can be compared), one
    update of an existing extension (given to the agent) and one rejected row."""
    lines = ["extension,name,server,user,secret", "1001,Bob renamed,pbx1,bob,Existing-secret-1"]
    lines += [f"{5000 + n},Desk {n},pbx1,,Secret-{n:05d}-abc" for n in range(BIG)]
    lines.append("1002,Nowhere,no-such-server,,Secret-reject-1")
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
def existing(server, agent):
    return Phone.objects.create(extension="1001", name="Bob", server=server,
                                secret="Existing-secret-1")


@pytest.fixture
def batches_of_200(monkeypatch):
    monkeypatch.setattr(phone_import_job, "BATCH", 200)


def dry_run(client, data: bytes):
    response = client.post(IMPORT, {"file": SimpleUploadedFile("x.csv", data,
                                                               content_type="text/csv")})
    assert response.status_code == 200
    return response


def confirm(client, response):
    plan = response.context["plan"]
    return client.post(IMPORT, {"confirm": "1", "data": response.context["confirm_data"],
                                "fingerprint": plan.fingerprint, "writes": plan.writes})


def work() -> None:
    call_command("db_worker", batch=True, interval=0, startup_delay=False)


def page_of(client, job) -> str:
    return client.get(reverse("telephony:phone_import_job", args=[job.pk])).content.decode()


def synchronous_result(data: bytes, fingerprint: str):
    """What the synchronous confirmation writes, rolled back."""
    class Undo(Exception):
        pass
    with pytest.raises(Undo), transaction.atomic():
        phone_csv_import(data=data, fingerprint=fingerprint)
        result = snapshot()
        raise Undo
    return result


def on_batch(monkeypatch, hook):
    """Run hook(batch number) inside each batch's transaction, before its realtime rows."""
    calls = []
    sync = phone_csv.phones_sync_bulk

    def watched(phones):
        calls.append(len(phones))
        hook(len(calls))
        return sync(phones)

    monkeypatch.setattr(phone_csv, "phones_sync_bulk", watched)
    return calls


@pytest.mark.parametrize("batch", [None, 200])
def test_the_job_writes_exactly_what_the_synchronous_confirmation_writes(
        admin_client, existing, agent, monkeypatch, batch):
    if batch:
        monkeypatch.setattr(phone_import_job, "BATCH", batch)
    data = big_file(agent)
    response = dry_run(admin_client, data)
    plan = response.context["plan"]
    assert (len(plan.created), len(plan.updated), plan.rejected) == (BIG, 1, 1)
    before = snapshot()
    synchronous = synchronous_result(data, plan.fingerprint)
    assert snapshot() == before

    queued = confirm(admin_client, response)
    job = PhoneImportJob.objects.get()
    assert queued.status_code == 302
    assert queued.url == reverse("telephony:phone_import_job", args=[job.pk])
    assert job.status == "queued" and snapshot() == before  # nothing written in the request

    work()

    job.refresh_from_db()
    assert (job.status, job.created, job.updated, job.rejected) == ("done", BIG, 1, 1)
    expected_batches = -(-(BIG + 1) // batch) if batch else 1
    assert (job.batches_total, job.batches_done) == (expected_batches, expected_batches)
    assert job.task_id and bytes(job.data) == b"" and job.plan == {}  # no secrets kept
    assert snapshot() == synchronous
    assert len(synchronous[1]["ps_endpoints"]) == BIG + 1  # the realtime rows are there
    assert f"{BIG} new, 1 updated, 1 rejected." in page_of(admin_client, job)


def test_an_agent_moving_between_batches_is_written_in_one_batch(
        admin_client, existing, agent, batches_of_200):
    """bob leaves 1001 (the file's last line) for 5000 (its first): both rows go in one batch,
    or the first batch would give bob a second active phone."""
    existing.user = agent
    existing.save()
    lines = ["extension,name,server,user", "5000,Bob's new desk,pbx1,bob"]
    lines += [f"{6000 + n},Desk {n},pbx1," for n in range(BIG)]
    lines.append("1001,Bob's old desk,pbx1,")
    confirm(admin_client, dry_run(admin_client, "\n".join(lines).encode()))
    work()
    job = PhoneImportJob.objects.get()
    assert job.status == "done", job.message
    assert job.batches_total == -(-(BIG + 2) // 200)
    assert list(Phone.objects.filter(user=agent).values_list("extension", flat=True)) == ["5000"]


def test_a_failing_first_batch_writes_nothing_and_shows_the_error(admin_client, existing,
                                                                  agent):
    response = dry_run(admin_client, big_file(agent))
    before = snapshot()
    confirm(admin_client, response)
    job = PhoneImportJob.objects.get()

    with failing_writes("ps_auths", "INSERT"):
        work()  # the worker logs the error and marks its task failed

    from django_tasks_db.models import DBTaskResult
    assert DBTaskResult.objects.get().status == "FAILED"

    job.refresh_from_db()
    assert snapshot() == before
    assert job.status == "failed" and job.rows_written == 0 and bytes(job.data) == b""
    assert job.message.startswith("Stopped by an error: ")
    assert "injected failure" in job.message and "Nothing was written." in job.message
    assert escape(job.message) in page_of(admin_client, job)
    status = admin_client.get(reverse("telephony:phone_import_job_status", args=[job.pk])).json()
    assert (status["status"], status["finished"]) == ("failed", True)


def test_an_error_in_a_later_batch_keeps_the_whole_batches_before_it(
        admin_client, existing, agent, batches_of_200, monkeypatch):
    def hook(number):
        if number == 3:
            raise RuntimeError("disk full")
    on_batch(monkeypatch, hook)
    confirm(admin_client, dry_run(admin_client, big_file(agent)))
    work()

    job = PhoneImportJob.objects.get()
    assert (job.status, job.batches_done, job.rows_written) == ("failed", 2, 400)
    assert "RuntimeError: disk full" in job.message
    assert "The 400 extensions of the first 2 of 4 batches stay written" in job.message
    # The first two batches (file order: 1001, then 5000-5398), nothing of the third.
    assert Phone.objects.count() == 400
    assert Phone.objects.get(extension="1001").name == "Bob renamed"
    assert Phone.objects.filter(extension="5398").exists()
    assert not Phone.objects.filter(extension="5399").exists()
    assert escape(job.message) in page_of(admin_client, job)


def test_a_plan_changed_since_the_dry_run_fails_the_job_and_writes_nothing(
        admin_client, existing, agent):
    response = dry_run(admin_client, big_file(agent))
    confirm(admin_client, response)
    # Another admin adds one of the file's extensions: the file would now update it.
    Phone.objects.create(extension="5000", name="Added meanwhile", server=existing.server,
                         secret="Other-secret-12")
    before = snapshot()

    work()

    job = PhoneImportJob.objects.get()
    assert job.status == "failed" and "Something changed since the dry run" in job.message
    assert "Nothing was written." in job.message
    assert snapshot() == before


def test_a_change_to_a_later_batch_stops_the_job_before_that_batch(
        admin_client, existing, agent, batches_of_200, monkeypatch):
    def hook(number):
        if number == 1:  # meanwhile, another admin creates an extension of batch 3
            Phone.objects.create(extension="5450", name="Added meanwhile",
                                 server=existing.server, secret="Other-secret-12")
    on_batch(monkeypatch, hook)
    confirm(admin_client, dry_run(admin_client, big_file(agent)))
    work()

    job = PhoneImportJob.objects.get()
    assert (job.status, job.batches_done, job.rows_written) == ("failed", 2, 400)
    assert "Something changed since the dry run (line 453)" in job.message
    assert Phone.objects.get(extension="5450").name == "Added meanwhile"
    assert not Phone.objects.filter(extension="5399").exists()


def test_cancel_stops_the_job_between_batches_and_keeps_what_was_written(
        admin_client, existing, agent, batches_of_200, monkeypatch):
    job_ids = []

    def hook(number):
        if number == 2:  # the admin cancels while the second batch is written
            job = PhoneImportJob.objects.get(pk=job_ids[0])
            response = admin_client.post(reverse("telephony:phone_import_job_cancel",
                                                  args=[job.pk]), {"confirm": "1"})
            assert response.status_code == 302
    on_batch(monkeypatch, hook)
    confirm(admin_client, dry_run(admin_client, big_file(agent)))
    job = PhoneImportJob.objects.get()
    job_ids.append(job.pk)
    work()

    job.refresh_from_db()
    assert (job.status, job.batches_done, job.rows_written) == ("cancelled", 2, 400)
    assert Phone.objects.count() == 400 and bytes(job.data) == b""
    assert "The 400 extensions of the first 2 of 4 batches stay written" in job.message
    page = page_of(admin_client, job)
    assert "Cancelled" in page and escape(job.message) in page
    assert "Cancel the import" not in page


def test_cancel_asks_first_and_a_queued_job_then_writes_nothing(admin_client, existing, agent):
    confirm(admin_client, dry_run(admin_client, big_file(agent)))
    job = PhoneImportJob.objects.get()
    url = reverse("telephony:phone_import_job_cancel", args=[job.pk])
    assert f'action="{url}"' in page_of(admin_client, job)
    assert admin_client.get(url).status_code == 405  # POST only

    asked = admin_client.post(url)
    assert asked.status_code == 200 and asked.templates[0].name == "confirm.html"
    assert "The import has not begun: nothing is written." in asked.content.decode()
    job.refresh_from_db()
    assert job.status == "queued"

    before = snapshot()
    assert admin_client.post(url, {"confirm": "1"}).status_code == 302
    job.refresh_from_db()
    assert job.status == "cancelled" and bytes(job.data) == b""
    work()  # the task finds the job cancelled
    assert snapshot() == before


def test_the_confirmation_of_a_running_job_says_what_stays(admin_client, existing, agent):
    confirm(admin_client, dry_run(admin_client, big_file(agent)))
    job = PhoneImportJob.objects.get()
    PhoneImportJob.objects.filter(pk=job.pk).update(status="running", rows_written=1000,
                                                    heartbeat_at=timezone.now())
    url = reverse("telephony:phone_import_job_cancel", args=[job.pk])
    page = admin_client.post(url).content.decode()
    assert "Each batch is written whole, in its own transaction" in page
    assert "(1,000 extensions so far)" in page
    admin_client.post(url, {"confirm": "1"})
    job.refresh_from_db()
    assert job.status == "cancelling"  # the worker stops after its batch


class Killed(BaseException):
    """The worker process dying mid-batch (not an error the job could record)."""


def test_a_job_whose_worker_died_is_stalled_and_queued_again_goes_on(
        admin_client, existing, agent, batches_of_200, monkeypatch):
    data = big_file(agent)
    response = dry_run(admin_client, data)
    synchronous = synchronous_result(data, response.context["plan"].fingerprint)
    confirm(admin_client, response)
    job = PhoneImportJob.objects.get()

    def hook(number):
        if number == 3:
            raise Killed
    calls = on_batch(monkeypatch, hook)
    with pytest.raises(Killed):
        phone_import_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.batches_done, job.rows_written) == ("running", 2, 400)
    status_url = reverse("telephony:phone_import_job_status", args=[job.pk])
    assert admin_client.get(status_url).json()["stale"] is False  # its heartbeat is fresh

    # No heartbeat for longer than JOB_STALE_SECONDS.
    PhoneImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - (
        datetime.timedelta(seconds=settings.JOB_STALE_SECONDS + 1)))
    status = admin_client.get(status_url).json()
    assert (status["stale"], status["status_label"]) == (True, "Stalled: the worker stopped")
    assert (status["cancellable"], status["requeueable"]) == (True, True)
    page = page_of(admin_client, job)
    assert "Stalled: the worker stopped." in page and "400 extensions were written" in page

    calls.clear()
    monkeypatch.setattr(phone_csv, "phones_sync_bulk", phone_csv.phones_sync_bulk)
    requeue = reverse("telephony:phone_import_job_requeue", args=[job.pk])
    assert admin_client.get(requeue).status_code == 405
    assert admin_client.post(requeue).status_code == 302
    job.refresh_from_db()
    assert job.status == "queued"
    work()

    job.refresh_from_db()
    assert (job.status, job.batches_done, job.created, job.updated) == ("done", 4, BIG, 1)
    assert snapshot() == synchronous  # the batches before the crash were not written twice


def test_a_stalled_job_can_be_cancelled_at_once(admin_client, existing, agent):
    confirm(admin_client, dry_run(admin_client, big_file(agent)))
    job = PhoneImportJob.objects.get()
    PhoneImportJob.objects.filter(pk=job.pk).update(
        status="running", heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
    admin_client.post(reverse("telephony:phone_import_job_cancel", args=[job.pk]),
                      {"confirm": "1"})
    job.refresh_from_db()
    assert job.status == "cancelled" and bytes(job.data) == b""
    assert job.message == "Cancelled after its worker stopped. Nothing was written."
    # A job that is not stalled is not queued again.
    response = admin_client.post(reverse("telephony:phone_import_job_requeue", args=[job.pk]),
                                 follow=True)
    assert "Only a stalled job" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "cancelled"


def test_progress_is_committed_batch_by_batch(admin_client, existing, agent, batches_of_200,
                                              monkeypatch):
    """While the third batch is written, another connection (the polling page's) sees the
    check done and two batches written."""
    seen = []

    def hook(number):
        if number == 3 and connection.vendor != "sqlite":  # one writer at a time there
            other = connections.create_connection(DEFAULT_DB_ALIAS)
            try:
                with other.cursor() as cursor:
                    cursor.execute("SELECT rows_total, rows_checked, writes_total, rows_written,"
                                   f" batches_done FROM {PhoneImportJob._meta.db_table}")
                    seen.append(cursor.fetchone())
            finally:
                other.close()
    on_batch(monkeypatch, hook)
    confirm(admin_client, dry_run(admin_client, big_file(agent)))
    work()

    job = PhoneImportJob.objects.get()
    print("seen from another connection mid-import:", seen)
    if connection.vendor != "sqlite":
        assert seen == [(BIG + 2, BIG + 2, BIG + 1, 400, 2)]
    assert (job.rows_total, job.rows_checked, job.writes_total, job.rows_written) == (
        BIG + 2, BIG + 2, BIG + 1, BIG + 1)
    status = admin_client.get(reverse("telephony:phone_import_job_status", args=[job.pk])).json()
    assert (status["percent"], status["finished"], status["status"]) == (100, True, "done")


def test_a_small_import_stays_in_the_request(admin_client, server):
    lines = ["extension,name,server"] + [f"{6000 + n},Desk {n},pbx1"
                                         for n in range(BACKGROUND_AFTER)]
    response = confirm(admin_client, dry_run(admin_client, "\n".join(lines).encode()))
    assert response.status_code == 302 and response.url == reverse("telephony:phone_list")
    assert Phone.objects.count() == BACKGROUND_AFTER
    assert not PhoneImportJob.objects.exists()


@pytest.mark.parametrize("persona", ["agent_client", "supervisor_client"])
def test_agents_and_supervisors_are_refused_the_job_pages(request, persona, admin_client,
                                                          existing, agent):
    confirm(admin_client, dry_run(admin_client, big_file(agent)))
    job = PhoneImportJob.objects.get()
    client = request.getfixturevalue(persona)
    for name in ("telephony:phone_import_job", "telephony:phone_import_job_status"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 403
        assert admin_client.get(reverse(name, args=[job.pk])).status_code == 200
    for name in ("telephony:phone_import_job_cancel", "telephony:phone_import_job_requeue"):
        assert client.post(reverse(name, args=[job.pk]), {"confirm": "1"}).status_code == 403
    job.refresh_from_db()
    assert job.status == "queued"
    # The admin's cancel, for the other side of the rule.
    admin_client.post(reverse("telephony:phone_import_job_cancel", args=[job.pk]),
                      {"confirm": "1"})
    job.refresh_from_db()
    assert job.status == "cancelled"
