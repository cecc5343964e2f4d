""""Select all N matching": a bulk action on every extension the list's filter matches, not only
the ticked page. The confirmation states the filter, the count and a sample; the confirmed
action re-evaluates the filter in one transaction and changes the realtime rows with the
phones, set-based (15,000 at once is the case it is for)."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from telephony.models import Phone, PsAor, PsAuth, PsContact, PsEndpoint
from telephony.services.phone_selection import PhoneFilter
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

SELECTION = reverse("telephony:phone_selection")


@pytest.fixture
def phones(server):
    """60 desks and 5 lobby phones; the filter below matches the desks only."""
    desks = phone_bulk_create(start="1000", end="1059", name_pattern="Desk {ext}", server=server)
    phone_bulk_create(start="2000", end="2004", name_pattern="Lobby {ext}", server=server)
    return desks


def matching(action, **extra):
    return {"scope": "matching", "action": action, "filter_q": "Desk", **extra}


def desks():
    return Phone.objects.filter(name__startswith="Desk")


def test_the_confirmation_states_the_filter_the_count_and_a_sample_and_writes_nothing(
        admin_client, phones):
    response = admin_client.post(SELECTION, matching("deactivate", filter_active="yes"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Deactivate: all 60 matching extension(s)?" in html
    assert "every extension matching search “Desk”, active: 60 now" in html
    assert "60 extension(s) removed from Asterisk, settings kept; 0 already inactive" in html
    assert "1000 (Desk 1000): removed from Asterisk, settings kept" in html
    assert "1019 (Desk 1019)" in html and "1020 (Desk 1020)" not in html  # a sample of 20
    assert "… and 40 more." in html
    # The filter travels with the confirmation, not 60 ids.
    assert 'name="ids"' not in html
    assert 'name="filter_q" value="Desk"' in html and 'name="shown" value="60"' in html
    assert desks().filter(is_active=True).count() == 60
    assert PsEndpoint.objects.count() == 65


def test_deactivating_every_match_removes_their_rows_and_keeps_the_others(admin_client, phones):
    add_contact("1005", expires=60)
    response = admin_client.post(SELECTION, matching("deactivate", confirm="1", shown="60"),
                                 follow=True)
    assert "60 extension(s) deactivated." in response.content.decode()
    assert not desks().filter(is_active=True).exists()
    assert Phone.objects.filter(name__startswith="Lobby", is_active=True).count() == 5
    lobby = {"2000", "2001", "2002", "2003", "2004"}
    for model in (PsEndpoint, PsAuth, PsAor):
        assert set(model.objects.values_list("id", flat=True)) == lobby
    assert not PsContact.objects.filter(endpoint="1005").exists()
    # One audit entry per changed phone, as the edit form would write.
    entries = LogEntry.objects.filter(action=LogEntry.Action.UPDATE,
                                      object_repr__startswith="10")
    assert entries.count() == 60
    assert entries.first().changes_dict["is_active"] == ["True", "False"]


def test_the_filter_is_evaluated_again_when_confirmed(admin_client, phones, server):
    admin_client.post(SELECTION, matching("deactivate"))  # the confirmation: 60 shown
    phone_create(extension="1060", name="Desk 1060", server=server)  # meanwhile
    response = admin_client.post(SELECTION, matching("deactivate", confirm="1", shown="60"),
                                 follow=True)
    html = response.content.decode()
    assert "61 extension(s) deactivated. The filter matched 61 when you confirmed, not the " \
           "60 shown." in html
    assert not PsEndpoint.objects.filter(id="1060").exists()


def test_activating_every_match_writes_the_rows_again(admin_client, phones):
    phone_bulk_set_active(phones=desks(), active=False)
    response = admin_client.post(SELECTION, matching("activate", confirm="1"), follow=True)
    assert "60 extension(s) activated." in response.content.decode()
    assert PsEndpoint.objects.count() == 65
    assert PsAuth.objects.get(id="1042").password == Phone.objects.get(extension="1042").secret


def test_one_agent_with_a_second_active_phone_leaves_every_match_unchanged(
        admin_client, server, agent):
    phone_create(extension="3000", name="Desk A", server=server, user=agent)
    phone_create(extension="3001", name="Desk B", server=server, user=agent, is_active=False)
    phone_create(extension="3002", name="Desk C", server=server, is_active=False)
    response = admin_client.post(SELECTION, matching("activate", confirm="1"), follow=True)
    html = response.content.decode()
    assert "Nothing was changed: bob already has active extension 3000" in html
    assert not Phone.objects.get(extension="3002").is_active
    assert not PsEndpoint.objects.filter(id="3002").exists()


def test_two_matches_of_one_agent_are_not_both_activated(server, agent):
    phone_create(extension="3001", name="B", server=server, user=agent, is_active=False)
    phone_create(extension="3002", name="C", server=server, user=agent, is_active=False)
    with pytest.raises(PhoneError, match=r"bob would get 2 active phones \(3001, 3002\)"):
        phone_bulk_set_active(phones=Phone.objects.all(), active=True)
    assert not PsEndpoint.objects.exists()


def test_deleting_every_match(admin_client, phones, agent):
    Phone.objects.filter(extension="1001").update(user=agent)
    response = admin_client.post(SELECTION, matching("delete"))
    assert "60 extension(s) deleted with their Asterisk rows; 1 agent(s) left without a " \
           "phone." in response.content.decode()
    response = admin_client.post(SELECTION, matching("delete", confirm="1"), follow=True)
    assert "60 extension(s) deleted; Asterisk no longer accepts them." in \
           response.content.decode()
    assert set(Phone.objects.values_list("extension", flat=True)) == {
        "2000", "2001", "2002", "2003", "2004"}
    assert PsEndpoint.objects.count() == PsAuth.objects.count() == PsAor.objects.count() == 5
    assert LogEntry.objects.filter(action=LogEntry.Action.DELETE).count() == 60


def test_assigning_every_match_to_a_server(admin_client, phones, server):
    other = make_server("pbx2")
    response = admin_client.post(SELECTION, matching("server", server=other.pk,
                                                     filter_server=server.pk, confirm="1"),
                                 follow=True)
    assert "60 extension(s) assigned to pbx2." in response.content.decode()
    assert desks().filter(server=other).count() == 60
    assert Phone.objects.filter(server=server).count() == 5


def test_every_match_exports_as_csv(admin_client, phones):
    response = admin_client.post(SELECTION, matching("export"))
    lines = response.content.decode().splitlines()
    assert len(lines) == 61 and lines[1].startswith("1000,") and lines[-1].startswith("1059,")


def test_a_filter_naming_a_deleted_server_is_refused_never_widened(admin_client, phones):
    response = admin_client.post(SELECTION, matching("deactivate", filter_server="999999",
                                                     confirm="1"), follow=True)
    assert "The server in the filter no longer exists; reload the list." in \
           response.content.decode()
    assert Phone.objects.filter(is_active=True).count() == 65


@pytest.mark.parametrize("bad", [{"filter_active": "maybe"}, {"filter_server": "²"},
                                 {"filter_q": "x" * 1001}, {"scope": "everything"}])
def test_a_malformed_filter_is_refused_and_nothing_changes(admin_client, phones, bad):
    response = admin_client.post(SELECTION, {**matching("delete", confirm="1"), **bad})
    assert response.status_code == 302
    assert Phone.objects.count() == 65


@pytest.mark.parametrize("action", ["server", "activate", "deactivate", "delete", "export"])
def test_agents_and_supervisors_are_refused_every_matching_action(
        agent_client, supervisor_client, phones, server, action):
    data = matching(action, server=server.pk, confirm="1")
    for client in (agent_client, supervisor_client):
        assert client.post(SELECTION, data).status_code == 403
    assert Phone.objects.filter(is_active=True).count() == 65
    assert PsEndpoint.objects.count() == 65


def test_the_list_offers_every_match_only_when_there_are_more_than_the_page(admin_client,
                                                                            phones):
    html = admin_client.get(reverse("telephony:phone_list"),
                            {"q": "Desk", "per_page": "25"}).content.decode()
    assert "Select all 60 matching extensions" in html
    assert "every extension matching search “Desk”" in html
    assert 'name="filter_q" value="Desk"' in html
    one_page = admin_client.get(reverse("telephony:phone_list"), {"q": "Lobby"})
    assert 'id="select-matching"' not in one_page.content.decode()


def test_the_services_take_a_filter_queryset(phones, server):
    assert len(phone_bulk_set_active(phones=PhoneFilter(q="Lobby").queryset(),
                                     active=False)) == 5
    assert set(PsEndpoint.objects.values_list("id", flat=True)) == {
        str(n) for n in range(1000, 1060)}
    other = make_server("pbx2")
    phone_bulk_move(phones=PhoneFilter(active="no").queryset(), server=other)
    assert Phone.objects.filter(server=other).count() == 5
    assert phone_bulk_delete(phones=PhoneFilter(server_id=other.pk).queryset()) == 5
    with pytest.raises(PhoneError, match="Select at least one extension"):
        phone_bulk_delete(phones=PhoneFilter(server_id=other.pk).queryset())
