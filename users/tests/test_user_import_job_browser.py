"""The background users import's page in headless Chromium: a confirmation above the threshold
(lowered here) lands on the job's page, which shows the progress as the batches commit and then
the result, without anyone reloading it; a cancel from the page (through the confirmation page)
shows the cancelled state with what stays written."""

import re

import pytest
from playwright.sync_api import expect

from conftest import _make_user, browser_login
from telephony.services import import_job
from telephony.tests.phone_helpers import make_server
from users import user_import_job
from users.models import User, UserImportJob
from users.user_import_job import user_import_run

pytestmark = pytest.mark.browser

ROWS = 12


@pytest.fixture
def big_import(page, django_user_model, tmp_path, settings, monkeypatch):
    """An admin's page on the job of a confirmed 12-row import (threshold 5, batches of 5)."""
    settings.IMPORT_BACKGROUND_AFTER = 5
    monkeypatch.setattr(user_import_job, "BATCH", 5)
    _make_user(django_user_model, "alice", "Admin")
    make_server()
    csv_file = tmp_path / "agents.csv"
    csv_file.write_text("username,name,email,role,extension\n" + "".join(
        f"agent{n:02d},Agent {n:02d},agent{n:02d}@example.com,Agent,{3000 + n}\n"
        for n in range(ROWS)) + "bad name,Bad,,Agent,\n")
    browser_login(page, "alice", "pw-alice-123")
    page.goto(page.base_url + "/users/import/")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check file").click()
    page.get_by_role("button", name=f"Import {ROWS} users, skip 1 rejected").click()
    expect(page).to_have_url(re.compile(r"/users/import/jobs/\d+/$"))
    expect(page.locator("#import-status")).to_have_text("Queued")
    assert not User.objects.filter(username__startswith="agent").exists()
    return UserImportJob.objects.get()


def between_batches(monkeypatch, hook):
    """hook(batch about to be written) in the worker, between two batches' transactions."""
    real = import_job.job_cancel_requested
    batches = []

    def watched(model, pk, token):
        batches.append(len(batches) + 1)
        hook(batches[-1])
        return real(model, pk, token)

    monkeypatch.setattr(import_job, "job_cancel_requested", watched)


def test_the_job_page_shows_the_progress_then_the_result_by_itself(page, big_import,
                                                                   monkeypatch):
    bar = page.get_by_role("progressbar", name="Import progress")

    def hook(batch):
        if batch == 2:  # the first batch is committed: the page's next poll shows it
            expect(page.locator("[data-field=rows_written]")).to_have_text("5")
            expect(page.locator("[data-field=batches_done]")).to_have_text("1")
            expect(page.locator("[data-field=writes_total]")).to_have_text(str(ROWS))
            expect(page.locator("#import-status")).to_have_text("Running")
            # The check is a fifth of the work, 5 of 12 users the rest: 20 + 33.
            expect(bar).to_have_attribute("aria-valuenow", "53")
    between_batches(monkeypatch, hook)

    user_import_run(job_id=big_import.pk)  # what the db_worker does, here while the page polls

    expect(page.locator("#import-result")).to_contain_text(
        f"Import done: {ROWS} new, 0 updated, 1 rejected.")
    expect(page.locator("#import-status")).to_have_text("Done")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_role("link", name="Download the set-password links")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel the import")).to_have_count(0)
    assert User.objects.filter(username__startswith="agent").count() == ROWS


def test_cancelling_a_running_job_from_its_page_shows_the_cancelled_state(page, big_import,
                                                                          monkeypatch):
    def hook(batch):
        if batch == 2:  # the admin cancels while the job runs
            expect(page.locator("[data-field=batches_done]")).to_have_text("1")
            page.get_by_role("button", name="Cancel the import").click()
            expect(page.get_by_role("heading", name=f"Cancel users import #{big_import.pk}?"))\
                .to_be_visible()
            expect(page.get_by_text("the batches already written stay written")).to_be_visible()
            page.get_by_role("button", name=f"Cancel import #{big_import.pk}").click()
            expect(page.get_by_text("Cancel requested: it stops after the batch it is "
                                    "writing")).to_be_visible()
    between_batches(monkeypatch, hook)

    user_import_run(job_id=big_import.pk)

    expect(page.locator("#import-status")).to_have_text("Cancelled")
    expect(page.locator("#import-result")).to_contain_text(
        "Cancelled. The 5 users of the first 1 of 3 batches stay written; nothing of the rest "
        "was.")
    expect(page.get_by_role("link", name="Import another file")).to_be_visible()
    assert User.objects.filter(username__startswith="agent").count() == 5
