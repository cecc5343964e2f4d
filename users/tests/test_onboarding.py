"""Onboarding agents: the users list shows each agent's extension and who the login throttle
has locked out, the extension form offers only agents without an active phone (searchable),
and the user form gives an agent a free extension."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import _make_user
from telephony.models import Phone, PsEndpoint
from telephony.services.phones import phone_create
from users.models import LoginFailure

pytestmark = pytest.mark.django_db

USERS = reverse("users:list")
SEARCH = reverse("telephony:phone_agent_search")


def lock_out(username, ip="10.0.0.9", count=5):
    LoginFailure.objects.bulk_create(LoginFailure(username=username, ip=ip, at=timezone.now())
                                     for _ in range(count))


def test_the_users_list_shows_extensions_and_lockouts_in_constant_queries(
        admin_client, agent, other_agent, server, django_user_model):
    phone_create(extension="1001", name="Bob", server=server, user=agent)
    lock_out("carol")
    lock_out("bob", count=4)  # one short: not locked
    html = admin_client.get(USERS).content.decode()
    assert reverse("telephony:phone_detail", args=[Phone.objects.get().pk]) in html
    assert html.count(">Locked</a>") == 1
    carol_row = html[html.index("<td>carol</td>"):].split("</tr>")[0]
    assert "Locked" in carol_row
    with CaptureQueriesContext(connection) as few:
        admin_client.get(USERS)
    for n in range(20):
        user = _make_user(django_user_model, f"agent{n:02d}", "Agent")
        phone_create(extension=f"20{n:02d}", name="x", server=server, user=user)
        lock_out(f"agent{n:02d}")
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(USERS).content.decode().count(">Locked</a>") == 21
    assert len(many) == len(few)


def test_the_agent_search_offers_only_agents_without_an_active_phone(
        admin_client, agent, other_agent, server, django_user_model):
    phone_create(extension="1001", name="Bob", server=server, user=agent)
    _make_user(django_user_model, "carmen", "Agent")
    _make_user(django_user_model, "cara", "Supervisor")
    found = admin_client.get(SEARCH, {"q": "ca"}).json()
    assert [row["label"] for row in found["agents"]] == ["carmen", "carol"]
    assert admin_client.get(SEARCH, {"q": "bob"}).json()["agents"] == []
    # Editing Bob's own phone keeps Bob offered.
    phone = Phone.objects.get(extension="1001")
    assert [row["label"] for row in admin_client.get(
        SEARCH, {"q": "bob", "phone": phone.pk}).json()["agents"]] == ["bob"]


def test_the_extension_form_does_not_offer_an_agent_who_has_a_phone(admin_client, agent,
                                                                     other_agent, server):
    phone_create(extension="1001", name="Bob", server=server, user=agent)
    html = admin_client.get(reverse("telephony:phone_create")).content.decode()
    assert f'value="{other_agent.pk}"' in html and f'value="{agent.pk}"' not in html
    assert f'data-agent-search="{SEARCH}"' in html


def test_agents_and_supervisors_are_refused_the_agent_search(agent_client, supervisor_client):
    for client in (agent_client, supervisor_client):
        assert client.get(SEARCH, {"q": "b"}).status_code == 403


def user_data(**extra):
    return {"username": "dave", "first_name": "", "last_name": "", "email": "",
            "is_active": "on", "role": "Agent", "password1": "correct-horse-battery",
            "password2": "correct-horse-battery", **extra}


def test_the_user_form_gives_a_new_agent_a_free_extension(admin_client, server, agent):
    free = phone_create(extension="1005", name="Spare", server=server)
    phone_create(extension="1006", name="Taken", server=server, user=agent)
    form_html = admin_client.get(reverse("users:create")).content.decode()
    assert ">1005 (Spare)<" in form_html and "1006" not in form_html
    response = admin_client.post(reverse("users:create"), user_data(extension=free.pk))
    assert response.status_code == 302
    free.refresh_from_db()
    assert free.user.username == "dave"
    assert PsEndpoint.objects.filter(id="1005").exists()


def test_a_non_agent_gets_no_extension_and_nothing_is_created(admin_client, server):
    free = phone_create(extension="1005", name="Spare", server=server)
    response = admin_client.post(reverse("users:create"),
                                 user_data(role="Supervisor", extension=free.pk))
    assert "Only a user with the Agent role" in response.content.decode()
    free.refresh_from_db()
    assert free.user is None


def test_editing_an_agent_moves_them_to_another_free_extension(admin_client, server, agent):
    old = phone_create(extension="1001", name="Old", server=server, user=agent)
    new = phone_create(extension="1002", name="New", server=server)
    response = admin_client.get(reverse("users:edit", args=[agent.pk]))
    assert f'<option value="{old.pk}" selected>' in response.content.decode()
    data = user_data(username="bob", extension=new.pk, password1="", password2="")
    assert admin_client.post(reverse("users:edit", args=[agent.pk]), data).status_code == 302
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.user is None and new.user == agent


def test_the_agent_search_reads_its_input_strictly(admin_client, agent):
    assert admin_client.get(SEARCH, {"phone": "9" * 400}).status_code == 400
    assert admin_client.get(SEARCH, {"phone": "\u00b2"}).status_code == 400
    assert admin_client.get(SEARCH, {"q": "x" * 10_000}).json()["agents"] == []
    assert admin_client.get(SEARCH, {"phone": "999999"}).json()["agents"][0]["label"] == "bob"
