"""A big confirmed extensions import runs as a background job (django-tasks' db_worker) with
progress: it writes exactly what the synchronous confirmation writes, or nothing; small
imports stay in the request. Admins only."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.urls import reverse
from django.utils.html import escape

from telephony.models import Phone, PhoneImportJob
from telephony.services import phone_csv
from telephony.services.phone_csv import phone_csv_import
from telephony.services.phone_import_job import BACKGROUND_AFTER
from telephony.tests.phone_helpers import failing_writes
from telephony.tests.test_bulk_and_csv import snapshot

# Real commits: the worker takes the job from the task queue after the request committed it,
# and the progress is written through a connection of its own.
pytestmark = pytest.mark.django_db(transaction=True)

IMPORT = reverse("telephony:phone_import")
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


def test_the_job_writes_exactly_what_the_synchronous_confirmation_writes(
        admin_client, existing, agent):
    data = big_file(agent)
    response = dry_run(admin_client, data)
    plan = response.context["plan"]
    assert (len(plan.created), len(plan.updated), plan.rejected) == (BIG, 1, 1)
    before = snapshot()

    # The synchronous path's rows, then rolled back.
    class Undo(Exception):
        pass
    with pytest.raises(Undo), transaction.atomic():
        phone_csv_import(data=data, fingerprint=plan.fingerprint)
        synchronous = snapshot()
        raise Undo
    assert snapshot() == before

    queued = confirm(admin_client, response)
    job = PhoneImportJob.objects.get()
    assert queued.status_code == 302
    assert queued.url == reverse("telephony:phone_import_job", args=[job.pk])
    assert job.status == "queued" and snapshot() == before  # nothing written in the request

    work()

    job.refresh_from_db()
    assert (job.status, job.created, job.updated, job.rejected) == ("done", BIG, 1, 1)
    assert job.task_id and bytes(job.data) == b""  # the file (with its secrets) is not kept
    assert snapshot() == synchronous
    assert len(synchronous[1]["ps_endpoints"]) == BIG + 1  # the realtime rows are there
    page = admin_client.get(queued.url).content.decode()
    assert f"{BIG} new, 1 updated, 1 rejected." in page


def test_a_failing_job_writes_nothing_and_shows_the_error(admin_client, existing, agent):
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
    assert job.status == "failed" and job.rows_written == 0
    assert job.message.startswith("Stopped by an error, nothing was written:")
    assert "injected failure" in job.message
    page = admin_client.get(reverse("telephony:phone_import_job", args=[job.pk]))
    assert escape(job.message) in page.content.decode()
    status = admin_client.get(reverse("telephony:phone_import_job_status", args=[job.pk])).json()
    assert (status["status"], status["finished"]) == ("failed", True)


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
    assert snapshot() == before


def test_progress_is_reported_while_the_import_runs(admin_client, existing, agent,
                                                    monkeypatch):
    """Mid-transaction (when the realtime rows are written) another connection, as the polling
    page's, sees the check done and the phones written."""
    seen = []
    sync = phone_csv.phones_sync_bulk

    def watched(phones):
        if connection.vendor != "sqlite":  # one writer at a time there: no live progress
            other = connections.create_connection(DEFAULT_DB_ALIAS)
            try:
                with other.cursor() as cursor:
                    cursor.execute("SELECT rows_total, rows_checked, writes_total, rows_written "
                                   f"FROM {PhoneImportJob._meta.db_table}")
                    seen.append(cursor.fetchone())
            finally:
                other.close()
        return sync(phones)

    monkeypatch.setattr(phone_csv, "phones_sync_bulk", watched)
    confirm(admin_client, dry_run(admin_client, big_file(agent)))
    work()

    job = PhoneImportJob.objects.get()
    print("seen from another connection mid-import:", seen)
    if connection.vendor != "sqlite":
        total = BIG + 2
        assert seen == [(total, total, BIG + 1, (BIG + 1) // 2)]
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
    assert job.status == "queued"
