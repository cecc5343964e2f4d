"""The extension list at scale: allowlisted sorting, numbered pages with a size choice, a
constant query count, and bulk actions that change the realtime rows with the phones."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from telephony.models import Phone, PsAor, PsAuth, PsContact, PsEndpoint
from telephony.services.phones import (
    PhoneError,
    phone_bulk_create,
    phone_bulk_delete,
    phone_bulk_move,
    phone_bulk_set_active,
    phone_create,
)
from telephony.tests.phone_helpers import add_contact, make_server

pytestmark = pytest.mark.django_db

LIST = reverse("telephony:phone_list")
SELECTION = reverse("telephony:phone_selection")


@pytest.fixture
def phones(server):
    return phone_bulk_create(start="1000", end="1059", name_pattern="Desk {ext}", server=server)


def extensions_on(response) -> list[str]:
    return [row["extension"] for row in response.context["rows"]]


def test_it_sorts_by_an_allowlisted_column_both_ways(admin_client, server):
    for extension, name in (("1001", "Zed"), ("1002", "Amy"), ("1003", "Max")):
        phone_create(extension=extension, name=name, server=server)
    assert extensions_on(admin_client.get(LIST, {"sort": "name"})) == ["1002", "1003", "1001"]
    assert extensions_on(admin_client.get(LIST, {"sort": "-name"})) == ["1001", "1003", "1002"]
    # A column name that is not on the allowlist is ignored, never passed to ORDER BY.
    assert extensions_on(admin_client.get(LIST, {"sort": "secret"})) == ["1001", "1002", "1003"]
    assert extensions_on(admin_client.get(LIST, {"sort": "-user__password"})) == [
        "1001", "1002", "1003"]


def test_the_page_size_is_a_choice_and_pages_are_numbered(admin_client, phones):
    response = admin_client.get(LIST, {"per_page": "25", "page": "2"})
    assert extensions_on(response) == [str(n) for n in range(1025, 1050)]
    html = response.content.decode()
    assert 'aria-label="Page 3"' in html and 'aria-current="page"' in html
    # Only the offered sizes: anything else is the default, never 10**9 rows in one page.
    assert len(extensions_on(admin_client.get(LIST, {"per_page": "1000000"}))) == 50


def test_the_list_runs_the_same_number_of_queries_whatever_the_page_size(admin_client, phones):
    counts = []
    for params in ({"per_page": "25"}, {"per_page": "100", "sort": "-agent"},
                   {"per_page": "25", "page": "2", "sort": "server", "q": "10"}):
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(LIST, params).status_code == 200
        counts.append(len(queries))
    assert len(set(counts)) == 1, counts


def test_bulk_deactivate_removes_what_asterisk_reads_like_the_edit_does(server):
    phones = phone_bulk_create(start="2000", end="2002", name_pattern="D {ext}", server=server)
    add_contact("2000", expires=60)
    phone_bulk_set_active(phones=phones[:2], active=False)
    assert set(PsEndpoint.objects.values_list("id", flat=True)) == {"2002"}
    assert set(PsAuth.objects.values_list("id", flat=True)) == {"2002"}
    assert set(PsAor.objects.values_list("id", flat=True)) == {"2002"}
    assert not Phone.objects.get(extension="2000").is_active
    assert not PsContact.objects.filter(endpoint="2000").exists()
    phone_bulk_set_active(phones=Phone.objects.filter(extension="2000"), active=True)
    assert PsEndpoint.objects.filter(id="2000").exists()


def test_one_refused_phone_leaves_the_whole_selection_unchanged(server, agent):
    phone_create(extension="3000", name="A", server=server, user=agent)
    # An inactive spare of the same agent: activating it would give them two active phones.
    second = phone_create(extension="3001", name="B", server=server, user=agent,
                          is_active=False)
    third = phone_create(extension="3002", name="C", server=server, is_active=False)
    with pytest.raises(PhoneError, match="already has active extension 3000"):
        phone_bulk_set_active(phones=[third, Phone.objects.get(pk=second.pk)], active=True)
    assert not Phone.objects.get(pk=third.pk).is_active
    assert not PsEndpoint.objects.filter(id="3002").exists()


def test_bulk_move_and_delete_change_the_rows_in_one_go(server):
    other = make_server("pbx2")
    phones = phone_bulk_create(start="4000", end="4003", name_pattern="M {ext}", server=server)
    phone_bulk_move(phones=phones[:2], server=other)
    assert list(Phone.objects.filter(server=other).values_list("extension", flat=True)) == [
        "4000", "4001"]
    assert phone_bulk_delete(phones=Phone.objects.filter(extension__in=["4000", "4003"])) == 2
    assert set(Phone.objects.values_list("extension", flat=True)) == {"4001", "4002"}
    assert set(PsEndpoint.objects.values_list("id", flat=True)) == {"4001", "4002"}


def test_a_destructive_bulk_action_shows_what_will_change_before_doing_it(admin_client, phones):
    ids = [phone.pk for phone in phones[:3]]
    response = admin_client.post(SELECTION, {"ids": ids, "action": "delete"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "1000 (Desk 1000): deleted with its Asterisk rows" in html
    assert Phone.objects.count() == 60  # nothing yet
    response = admin_client.post(SELECTION, {"ids": ids, "action": "delete", "confirm": "1"})
    assert response.status_code == 302
    assert Phone.objects.count() == 57
    assert not PsEndpoint.objects.filter(id__in=["1000", "1001", "1002"]).exists()


def test_assign_to_server_needs_a_server(admin_client, phones):
    response = admin_client.post(SELECTION, {"ids": [phones[0].pk], "action": "server",
                                             "confirm": "1"}, follow=True)
    assert "Choose the server" in response.content.decode()


def test_the_selection_exports_as_csv(admin_client, phones):
    response = admin_client.post(SELECTION, {"ids": [phones[0].pk, phones[5].pk],
                                             "action": "export"})
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert len(lines) == 3 and lines[1].startswith("1000,") and lines[2].startswith("1005,")
    assert phones[0].secret not in response.content.decode()


@pytest.mark.parametrize("action", ["server", "activate", "deactivate", "delete", "export"])
def test_agents_and_supervisors_are_refused_every_bulk_action(agent_client, supervisor_client,
                                                              phones, server, action):
    data = {"ids": [phones[0].pk], "action": action, "server": server.pk, "confirm": "1"}
    for client in (agent_client, supervisor_client):
        assert client.post(SELECTION, data).status_code == 403
    assert Phone.objects.filter(pk=phones[0].pk, is_active=True).exists()
    assert PsEndpoint.objects.filter(id="1000").exists()


def test_a_server_in_use_offers_no_delete_button(admin_client, server):
    empty = make_server("spare")
    phone_create(extension="5000", name="x", server=server)
    html = admin_client.get(reverse("telephony:server_list")).content.decode()
    assert reverse("telephony:server_delete", args=[empty.pk]) in html
    assert reverse("telephony:server_delete", args=[server.pk]) not in html
    detail = admin_client.get(reverse("telephony:server_detail", args=[server.pk]))
    assert reverse("telephony:server_delete", args=[server.pk]) not in detail.content.decode()


@pytest.mark.parametrize("bad", ["9" * 400, "\u00b2", "-1", "x"])
def test_a_malformed_id_is_refused_without_touching_the_database(admin_client, phones, bad):
    response = admin_client.post(SELECTION, {"ids": [phones[0].pk, bad], "action": "delete",
                                             "confirm": "1"}, follow=True)
    assert response.status_code == 200
    assert "not an extension id" in response.content.decode()
    assert Phone.objects.count() == 60
