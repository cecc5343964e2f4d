"""A users CSV import writing more than IMPORT_BACKGROUND_AFTER rows runs as a background job
(django-tasks' db_worker) on the same page kind as the extensions import's: re-checked inside
the job against the dry run, written in batches (each whole in its own transaction), with
cancel and stall handling; the set-password links still cover the users it created. Below the
threshold it stays in the request. Admins only."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from telephony.models import Phone, PsEndpoint
from users import user_csv, user_import_job
from users.models import User, UserImportJob
from users.user_import_job import user_import_run

pytestmark = pytest.mark.django_db(transaction=True)

IMPORT = reverse("users:import")
LINKS = reverse("users:password_links")
ROWS = 12


@pytest.fixture(autouse=True)
def small_threshold(settings, monkeypatch):
    settings.IMPORT_BACKGROUND_AFTER = 5
    monkeypatch.setattr(user_import_job, "BATCH", 5)


def users_file(count: int = ROWS) -> bytes:
    lines = ["username,name,email,role,extension"]
    lines += [f"agent{n:02d},Agent {n:02d},agent{n:02d}@example.com,agent,{3000 + n}"
              for n in range(count)]
    lines.append("bad name,Bad,,agent,")  # rejected
    return ("\n".join(lines) + "\n").encode()


def dry_run(client, data: bytes):
    response = client.post(IMPORT, {"file": SimpleUploadedFile("users.csv", data,
                                                               content_type="text/csv")})
    assert response.status_code == 200
    return response


def confirm(client, response):
    plan = response.context["plan"]
    return client.post(IMPORT, {"confirm": "1", "data": response.context["confirm_data"],
                                "fingerprint": plan.fingerprint, "writes": plan.writes})


def work() -> None:
    call_command("db_worker", batch=True, interval=0, startup_delay=False)


def imported():
    return sorted(User.objects.filter(username__startswith="agent").values_list(
        "username", "first_name", "last_name", "email", "phones__extension"))


def page_of(client, job) -> str:
    return client.get(reverse("users:import_job", args=[job.pk])).content.decode()


def on_write(monkeypatch, hook):
    """hook(row number) before each row the job writes."""
    calls = []
    write = user_csv._write

    def watched(row):
        calls.append(row.line)
        hook(len(calls))
        return write(row)

    monkeypatch.setattr(user_csv, "_write", watched)
    return calls


def test_a_big_confirmation_runs_as_a_job_and_its_users_get_set_password_links(
        admin_client, server):
    response = dry_run(admin_client, users_file())
    assert response.context["plan"].summary() == f"{ROWS} new, 0 updated, 1 rejected"
    queued = confirm(admin_client, response)
    job = UserImportJob.objects.get()
    assert queued.status_code == 302
    assert queued.url == reverse("users:import_job", args=[job.pk])
    assert job.status == "queued" and not imported()  # nothing written in the request

    work()

    job.refresh_from_db()
    assert (job.status, job.created, job.updated, job.rejected) == ("done", ROWS, 0, 1)
    assert (job.batches_total, job.batches_done) == (3, 3)
    assert bytes(job.data) == b"" and job.plan == {}
    assert imported() == [(f"agent{n:02d}", "Agent", f"{n:02d}", f"agent{n:02d}@example.com",
                           str(3000 + n)) for n in range(ROWS)]
    assert PsEndpoint.objects.filter(id__startswith="30").count() == ROWS
    agents = Group.objects.get(name="Agent").user_set
    assert agents.filter(username__startswith="agent").count() == ROWS
    assert not any(user.has_usable_password()
                   for user in User.objects.filter(username__startswith="agent"))

    page = page_of(admin_client, job)
    assert f"Import done: {ROWS} new, 0 updated, 1 rejected." in page
    assert f'href="{LINKS}"' in page
    links = admin_client.get(LINKS).content.decode()
    assert all(f"agent{n:02d}," in links for n in range(ROWS))


def test_up_to_the_threshold_it_stays_in_the_request(admin_client, server):
    response = confirm(admin_client, dry_run(admin_client, users_file(5)))
    assert response.status_code == 302 and response.url == IMPORT
    assert len(imported()) == 5 and not UserImportJob.objects.exists()


def test_the_job_checks_again_and_writes_nothing_when_the_plan_changed(admin_client, server,
                                                                      django_user_model):
    confirm(admin_client, dry_run(admin_client, users_file()))
    # Meanwhile another admin creates one of the file's users: the file would now update them.
    django_user_model.objects.create_user(username="agent07", password="pw-agent07-123")
    work()
    job = UserImportJob.objects.get()
    assert job.status == "failed" and "Something changed since the dry run" in job.message
    assert "Nothing was written." in job.message
    assert [name for name, *_rest in imported()] == ["agent07"]
    assert escape(job.message) in page_of(admin_client, job)


def test_the_job_runs_as_the_admin_who_confirmed_it_while_they_still_are_one(
        admin_client, admin_user, server):
    confirm(admin_client, dry_run(admin_client, users_file()))
    admin_user.is_superuser = False
    admin_user.save()
    admin_user.groups.clear()
    work()
    job = UserImportJob.objects.get()
    assert job.status == "failed"
    assert job.message == ("Refused: the admin who confirmed it is no longer an active admin. "
                           "Nothing was written.")
    assert not imported()


def test_cancel_stops_between_batches_and_keeps_the_whole_batches(admin_client, server,
                                                                  monkeypatch):
    confirm(admin_client, dry_run(admin_client, users_file()))
    job = UserImportJob.objects.get()
    url = reverse("users:import_job_cancel", args=[job.pk])

    def hook(number):
        if number == 7:  # while the second batch is written
            assert admin_client.post(url, {"confirm": "1"}).status_code == 302
    on_write(monkeypatch, hook)
    work()

    job.refresh_from_db()
    assert (job.status, job.batches_done, job.rows_written) == ("cancelled", 2, 10)
    assert len(imported()) == 10
    assert "The 10 users of the first 2 of 3 batches stay written" in job.message
    assert "Cancelled" in page_of(admin_client, job)


def test_cancel_goes_through_the_confirmation_page(admin_client, server):
    confirm(admin_client, dry_run(admin_client, users_file()))
    job = UserImportJob.objects.get()
    url = reverse("users:import_job_cancel", args=[job.pk])
    assert admin_client.get(url).status_code == 405
    asked = admin_client.post(url)
    assert asked.templates[0].name == "confirm.html"
    assert f"Cancel import #{job.pk}" in asked.content.decode()
    job.refresh_from_db()
    assert job.status == "queued"


class Killed(BaseException):
    """The worker process dying mid-batch."""


def test_a_stalled_job_is_queued_again_and_goes_on(admin_client, server, monkeypatch,
                                                   settings):
    confirm(admin_client, dry_run(admin_client, users_file()))
    job = UserImportJob.objects.get()

    original = user_csv._write

    def hook(number):
        if number == 8:
            raise Killed
    on_write(monkeypatch, hook)
    with pytest.raises(Killed):
        user_import_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.batches_done) == ("running", 1)
    assert len(imported()) == 5  # the second batch was rolled back whole
    UserImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - (
        datetime.timedelta(seconds=settings.JOB_STALE_SECONDS + 1)))
    page = page_of(admin_client, job)
    assert "Stalled: the worker stopped." in page and "5 users were written" in page

    monkeypatch.setattr(user_csv, "_write", original)
    assert admin_client.post(reverse("users:import_job_requeue", args=[job.pk])).status_code \
        == 302
    work()
    job.refresh_from_db()
    assert (job.status, job.created) == ("done", ROWS), job.message
    assert len(imported()) == ROWS


@pytest.mark.parametrize("persona", ["agent_client", "supervisor_client"])
def test_agents_and_supervisors_are_refused_the_job_pages(request, persona, admin_client,
                                                          server):
    confirm(admin_client, dry_run(admin_client, users_file()))
    job = UserImportJob.objects.get()
    client = request.getfixturevalue(persona)
    for name in ("users:import_job", "users:import_job_status"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 403
        assert admin_client.get(reverse(name, args=[job.pk])).status_code == 200
    for name in ("users:import_job_cancel", "users:import_job_requeue"):
        assert client.post(reverse(name, args=[job.pk]), {"confirm": "1"}).status_code == 403
    job.refresh_from_db()
    assert job.status == "queued"
    admin_client.post(reverse("users:import_job_cancel", args=[job.pk]), {"confirm": "1"})
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert not Phone.objects.exists()
