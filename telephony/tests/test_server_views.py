"""Asterisk server pages: admin only, passwords never echoed, delete refused while in use."""

import pytest
from django.urls import reverse

from telephony.models import AsteriskServer, Phone
from telephony.tests.phone_helpers import make_server

pytestmark = pytest.mark.django_db


def server_urls(server):
    return [
        reverse("telephony:server_list"),
        reverse("telephony:server_create"),
        reverse("telephony:server_detail", args=[server.pk]),
        reverse("telephony:server_edit", args=[server.pk]),
        reverse("telephony:server_delete", args=[server.pk]),
    ]


def form_data(**overrides):
    data = {"name": "pbx2", "host": "10.0.0.5", "sip_bind": "0.0.0.0", "sip_port": "5060",
            "ami_host": "10.0.0.5", "ami_port": "5038", "ami_username": "autodialer",
            "ami_password": "Ami-Pass-42", "ari_scheme": "http", "ari_host": "10.0.0.5",
            "ari_port": "8088", "ari_username": "autodialer", "ari_password": "Ari-Pass-42",
            "ari_app": "autodialer", "odbc_dsn": "asterisk", "is_active": "on"}
    data.update(overrides)
    return data


def test_it_sends_anonymous_visitors_to_login(client):
    for url in server_urls(make_server()):
        response = client.get(url)
        assert response.status_code == 302 and "/users/login/" in response.url, url


def test_it_rejects_agents_and_supervisors(agent_client, supervisor_client):
    server = make_server()
    for url in server_urls(server):
        assert agent_client.get(url).status_code == 403, url
        assert supervisor_client.get(url).status_code == 403, url
    assert agent_client.post(reverse("telephony:server_delete", args=[server.pk])).status_code \
        == 403
    assert AsteriskServer.objects.filter(pk=server.pk).exists()


def test_it_shows_every_page_to_admins(admin_client):
    for url in server_urls(make_server()):
        assert admin_client.get(url).status_code == 200, url


def test_admin_creates_a_server(admin_client):
    response = admin_client.post(reverse("telephony:server_create"), form_data())
    server = AsteriskServer.objects.get(name="pbx2")
    assert response.status_code == 302
    assert response.url == reverse("telephony:server_detail", args=[server.pk])
    assert (server.ami_password, server.ari_password) == ("Ami-Pass-42", "Ari-Pass-42")


def test_passwords_are_never_rendered_back(admin_client):
    server = make_server(ami_password="Stored-Ami-Secret", ari_password="Stored-Ari-Secret")
    for url in server_urls(server):
        page = admin_client.get(url).content.decode()
        assert "Stored-Ami-Secret" not in page and "Stored-Ari-Secret" not in page, url
    # Nor after a failed submit: the typed password is not echoed into the form.
    page = admin_client.post(reverse("telephony:server_create"),
                             form_data(name="", ami_password="Typed-Ami-Secret")).content.decode()
    assert "Typed-Ami-Secret" not in page


def test_a_blank_password_on_edit_keeps_the_stored_one(admin_client):
    server = make_server(ami_password="Stored-Ami-Secret", ari_password="Stored-Ari-Secret")
    response = admin_client.post(reverse("telephony:server_edit", args=[server.pk]),
                                 form_data(name="renamed", ami_password="", ari_password="New-1"))
    assert response.status_code == 302
    server.refresh_from_db()
    assert (server.name, server.ami_password, server.ari_password) == \
        ("renamed", "Stored-Ami-Secret", "New-1")


def test_a_password_is_required_when_creating(admin_client):
    response = admin_client.post(reverse("telephony:server_create"),
                                 form_data(ami_password=""))
    assert response.status_code == 200
    assert "ami_password" in response.context["form"].errors
    assert not AsteriskServer.objects.exists()


@pytest.mark.parametrize("field,value", [
    ("host", "pbx example.com"), ("host", "http://pbx"), ("ami_port", "70000"),
    ("ami_password", "has space"), ("name", "bad;name"), ("name", "line\nbreak"),
    ("ari_app", "app;x"),
])
def test_bad_server_input_is_refused_and_nothing_is_saved(admin_client, field, value):
    response = admin_client.post(reverse("telephony:server_create"), form_data(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not AsteriskServer.objects.exists()


def test_deleting_a_server_used_by_phones_is_refused_with_a_clear_message(admin_client):
    server = make_server()
    Phone.objects.create(extension="1001", name="Bob", server=server)
    page = admin_client.get(reverse("telephony:server_delete", args=[server.pk])).content.decode()
    assert "cannot be deleted" in page
    response = admin_client.post(reverse("telephony:server_delete", args=[server.pk]),
                                 follow=True)
    assert "used by 1 extension(s)" in response.content.decode()
    assert AsteriskServer.objects.filter(pk=server.pk).exists()


def test_admin_deletes_an_unused_server(admin_client):
    server = make_server()
    response = admin_client.post(reverse("telephony:server_delete", args=[server.pk]))
    assert response.url == reverse("telephony:server_list")
    assert not AsteriskServer.objects.exists()


def test_the_detail_page_shows_the_stored_connection_status(admin_client):
    server = make_server(connection_status="error", connection_message="AMI login refused",
                         asterisk_version="22.10.1")
    page = admin_client.get(reverse("telephony:server_detail", args=[server.pk])).content.decode()
    assert 'id="connection"' in page
    assert "Failed" in page and "AMI login refused" in page and "22.10.1" in page


def test_changing_how_we_reach_ami_resets_the_connection_status(admin_client):
    server = make_server(connection_status="ok")
    admin_client.post(reverse("telephony:server_edit", args=[server.pk]),
                      form_data(name="pbx1", ami_host="10.9.9.9"))
    server.refresh_from_db()
    assert server.connection_status == "unknown"


def test_the_list_shows_servers(admin_client):
    make_server(name="pbx-east")
    assert "pbx-east" in admin_client.get(reverse("telephony:server_list")).content.decode()
