"""The extensions list reuses each server's registration snapshot for a few seconds (one AMI
login for every page and admin in that time), says how old it is, never serves an old answer
past REGISTRATION_CACHE_SECONDS, and shows a failure to answer as a failure."""

import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from telephony.models import Phone
from telephony.services.registration import Snapshot, _snapshot_key
from telephony.tests.fakes.ami import FakeAmiServer, closed_port, registered_endpoint

pytestmark = pytest.mark.django_db

LIST = reverse("telephony:phone_list")


@pytest.fixture
def asterisk(server):
    with FakeAmiServer() as ami:
        server.ami_port, server.ami_username, server.ami_password = (ami.port, ami.username,
                                                                     ami.secret)
        server.save()
        ami.endpoints = {"3001": registered_endpoint("3001", "Reachable")}
        Phone.objects.create(extension="3001", name="Desk", server=server)
        Phone.objects.create(extension="3002", name="Spare", server=server)
        yield ami


def row_of(page: str, extension: str) -> str:
    return page[page.index(f">{extension}<"):].split("</tr>")[0]


def test_pages_within_the_cache_time_share_one_answer_and_say_its_age(
        admin_client, server, asterisk, settings):
    settings.REGISTRATION_CACHE_SECONDS = 10
    first = admin_client.get(LIST).content.decode()
    asterisk.endpoints = {}  # the phone unregisters: a cached page does not know yet
    second = admin_client.get(LIST, {"sort": "-extension"}).content.decode()

    assert len(asterisk.actions_named("PJSIPShowContacts")) == 1
    assert asterisk.login_count == 1
    assert ">Registered<" in row_of(first, "3001") and ">Registered<" in row_of(second, "3001")
    assert "registration as Asterisk reported it" in second
    assert "(asked again after 0:10)" in second


def test_an_answer_older_than_the_cache_time_is_never_shown(admin_client, server, asterisk,
                                                           settings):
    settings.REGISTRATION_CACHE_SECONDS = 10
    cache.set(_snapshot_key(server), Snapshot(asked_at=time.time() - 11, by_extension={}))

    page = admin_client.get(LIST).content.decode()

    assert len(asterisk.actions_named("PJSIPShowContacts")) == 1  # asked again
    assert ">Registered<" in row_of(page, "3001")
    assert "reported it just now" in page


def test_the_age_of_a_cached_answer_is_on_the_page(admin_client, server, asterisk, settings):
    settings.REGISTRATION_CACHE_SECONDS = 10
    cache.set(_snapshot_key(server), Snapshot(asked_at=time.time() - 7, by_extension={}))

    page = admin_client.get(LIST).content.decode()

    assert asterisk.login_count == 0
    assert "registration as Asterisk reported it 0:07 ago" in page
    assert ">Not registered<" in row_of(page, "3001")  # what Asterisk said 7 s ago


def test_zero_asks_asterisk_on_every_page(admin_client, server, asterisk, settings):
    settings.REGISTRATION_CACHE_SECONDS = 0
    admin_client.get(LIST)
    asterisk.endpoints = {}
    page = admin_client.get(LIST).content.decode()
    assert asterisk.login_count == 2
    assert ">Not registered<" in row_of(page, "3001")
    assert "asked again after" not in page


def test_the_detail_page_always_asks_now(admin_client, server, asterisk, settings):
    settings.REGISTRATION_CACHE_SECONDS = 10
    admin_client.get(LIST)
    asterisk.endpoints = {}
    phone = Phone.objects.get(extension="3001")
    detail = admin_client.get(reverse("telephony:phone_detail", args=[phone.pk]))
    assert ">Not registered<" in detail.content.decode()
    assert asterisk.login_count == 2


def test_an_edited_server_is_asked_afresh(admin_client, server, asterisk, settings):
    settings.REGISTRATION_CACHE_SECONDS = 10
    admin_client.get(LIST)
    server.ami_port = closed_port()  # the admin points it somewhere else
    server.save()
    page = admin_client.get(LIST).content.decode()
    assert "Asterisk could not be asked (pbx1: Cannot reach Asterisk AMI" in page
    assert "Asterisk was asked just now and did not answer" in page


def test_a_failure_is_shown_as_a_failure_with_its_age_not_as_old_data(admin_client, server,
                                                                      asterisk, settings):
    settings.REGISTRATION_CACHE_SECONDS = 10
    cache.set(_snapshot_key(server), Snapshot(asked_at=time.time() - 4,
                                              problem="pbx1: Asterisk AMI did not answer"))
    page = admin_client.get(LIST).content.decode()
    assert asterisk.login_count == 0
    assert 'id="registration-problem"' in page
    assert "Asterisk could not be asked (pbx1: Asterisk AMI did not answer)" in page
    assert "Asterisk was asked 0:04 ago and did not answer" in page
    # The database's picture, labelled as such: 3001 has no ps_contacts row.
    assert ">Not registered<" in row_of(page, "3001")
