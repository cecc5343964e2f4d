"""My phone: an agent sees their own active extension and softphone settings, nobody else's."""

import time

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import expect

from conftest import browser_login
from telephony.models import Phone
from telephony.tests.fakes.ami import FakeAmiServer, registered_endpoint
from telephony.tests.phone_helpers import add_contact, make_server
from users.roles import AGENT, ROLES

pytestmark = pytest.mark.django_db
URL = reverse("telephony:my_phone")


@pytest.fixture
def server():
    return make_server(host="sip.callcentre.example")


def test_it_sends_anonymous_visitors_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/users/login/" in response.url


def test_it_rejects_users_without_the_agent_role(client, outsider, supervisor_client):
    client.force_login(outsider)
    assert client.get(URL).status_code == 403
    assert supervisor_client.get(URL).status_code == 403


def test_an_agent_sees_their_phone_and_softphone_settings(agent_client, agent, server):
    phone = Phone.objects.create(extension="1001", name="Bob desk", server=server, user=agent)
    page = agent_client.get(URL).content.decode()
    assert 'data-field="username">1001<' in page
    assert 'data-field="domain">sip.callcentre.example<' in page
    assert f'value="{phone.secret}"' in page and 'type="password"' in page
    assert "Not registered" in page


def test_it_shows_the_registration_state(agent_client, agent, server):
    Phone.objects.create(extension="1001", name="Bob desk", server=server, user=agent)
    add_contact("1001", expires=int(time.time()) + 3600, user_agent="Zoiper rv2.10")
    page = agent_client.get(URL).content.decode()
    assert "Registered" in page and "Zoiper rv2.10" in page


def test_an_agent_sees_nothing_of_anyone_elses_phone(agent_client, other_agent, server):
    other = Phone.objects.create(extension="1002", name="Carol desk", server=server,
                                 user=other_agent)
    unassigned = Phone.objects.create(extension="1003", name="Spare", server=server)
    page = agent_client.get(URL).content.decode()
    for phone in (other, unassigned):
        assert phone.secret not in page and phone.extension not in page
    assert "You have no phone yet" in page


def test_an_inactive_phone_is_not_shown(agent_client, agent, server):
    phone = Phone.objects.create(extension="1001", name="Bob desk", server=server, user=agent,
                                 is_active=False)
    page = agent_client.get(URL).content.decode()
    assert phone.secret not in page and "You have no phone yet" in page


def test_an_agent_cannot_open_the_admin_detail_of_their_own_phone(agent_client, agent, server):
    phone = Phone.objects.create(extension="1001", name="Bob desk", server=server, user=agent)
    assert agent_client.get(reverse("telephony:phone_detail", args=[phone.pk])).status_code \
        == 403


@pytest.mark.browser
def test_the_password_is_hidden_until_revealed_and_can_be_copied(page, django_user_model):
    # The live server's database is flushed between tests: bring the role groups back.
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    agent = django_user_model.objects.create_user(username="bob", password="pw-bob-123")
    agent.groups.add(Group.objects.get(name=AGENT))
    phone = Phone.objects.create(extension="1001", name="Bob desk", server=make_server(),
                                 user=agent)
    browser_login(page, "bob", "pw-bob-123")
    page.goto(page.base_url + URL)
    secret = page.get_by_label("SIP password")
    expect(secret).to_have_attribute("type", "password")
    page.get_by_role("button", name="Show").click()
    expect(secret).to_have_attribute("type", "text")
    expect(secret).to_have_value(phone.secret)
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()


def test_it_shows_what_asterisk_reports_not_the_stale_row(agent_client, agent, server):
    # Defect 5 of issue #12: the row said registered, Asterisk would not ring the phone.
    Phone.objects.create(extension="1001", name="Bob desk", server=server, user=agent)
    add_contact("1001", expires=int(time.time()) + 3600, user_agent="Zoiper rv2.10")
    with FakeAmiServer() as ami:
        server.ami_port, server.ami_username, server.ami_password = (ami.port, ami.username,
                                                                     ami.secret)
        server.save()
        ami.endpoints = {"1001": registered_endpoint("1001", "Unreachable",
                                                     user_agent="Zoiper rv2.10")}
        unreachable = agent_client.get(URL).content.decode()
        ami.endpoints = {"1001": registered_endpoint("1001", "Reachable")}
        reachable = agent_client.get(URL).content.decode()

    assert ">Cannot be reached<" in unreachable and ">Registered<" not in unreachable
    assert "Asterisk cannot reach your phone right now" in unreachable
    assert ">Registered<" in reachable and ">Reachable<" in reachable
    assert 'id="registration-problem"' not in reachable
