"""2 and 3. Extensions made and changed in the web UI are what a real Asterisk reads, at once:
it knows the endpoint, a phone registers with the secret the detail page shows, and every
later change (edit, rename, deactivate, delete, bulk create, CSV import) is followed without a
reload."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from telephony.models import Phone, PsContact

pytestmark = pytest.mark.integration

CREATE = reverse("telephony:phone_create")


def form_data(server, **overrides):
    data = {"extension": "7101", "name": "Bob desk", "server": str(server.pk),
            "context": "agents", "codecs": ["ulaw", "alaw"], "transport": "transport-udp",
            "max_contacts": "1", "caller_id_name": "", "caller_id_number": "", "user": "",
            "is_active": "on", "new_secret": ""}
    data.update(overrides)
    return data


def create_in_form(client, server, **overrides) -> Phone:
    response = client.post(CREATE, form_data(server, **overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Phone.objects.get(extension=overrides.get("extension", "7101"))


def secret_on_detail_page(client, phone) -> str:
    page = client.get(reverse("telephony:phone_detail", args=[phone.pk])).content.decode()
    return re.search(r'id="sip-secret" value="([^"]+)"', page).group(1)


def endpoint(pbx, extension) -> str:
    return pbx.cli(f"pjsip show endpoint {extension}")


def known(pbx, extension) -> bool:
    return f"Endpoint:  {extension}" in endpoint(pbx, extension)


def endpoint_count(pbx) -> int:
    return len(re.findall(r"^ Endpoint:  (?!<)\S", pbx.cli("pjsip show endpoints"), re.M))


# --- 2: create and register ---------------------------------------------------------------

def test_an_extension_created_in_the_web_form_is_known_to_asterisk_at_once(pbx, admin_client):
    assert not known(pbx, "7101")
    create_in_form(admin_client, pbx.server)
    out = endpoint(pbx, "7101")
    assert "Endpoint:  7101" in out and "InAuth:  7101/7101" in out
    assert re.search(r"^ context\s+: agents$", out, re.M)
    assert re.search(r"^ allow\s+: \(ulaw\|alaw\)$", out, re.M)


def test_a_phone_registers_with_the_secret_the_detail_page_shows(pbx, admin_client):
    phone = create_in_form(admin_client, pbx.server)
    secret = secret_on_detail_page(admin_client, phone)
    assert secret == phone.secret

    reg = pbx.register("7101", secret)

    assert reg.returncode == 0
    assert reg.received_statuses()[:2] == [401, 200]
    contact = PsContact.objects.get(endpoint="7101")  # written by Asterisk itself
    assert contact.uri == f"sip:7101@127.0.0.1:{reg.port}"
    assert f"7101/sip:7101@127.0.0.1:{reg.port}" in pbx.cli("pjsip show contacts")
    listing = admin_client.get(reverse("telephony:phone_list")).content.decode()
    detail = admin_client.get(reverse("telephony:phone_detail", args=[phone.pk])).content.decode()
    for page in (listing, detail):
        assert ">Registered<" in page and f"127.0.0.1:{reg.port}" in page


def test_a_wrong_secret_is_refused_with_401_twice(pbx, admin_client):
    create_in_form(admin_client, pbx.server)
    reg = pbx.register("7101", "not-the-secret-1")
    assert reg.returncode == 1
    assert reg.received_statuses()[:2] == [401, 401]
    assert not PsContact.objects.filter(endpoint="7101").exists()
    listing = admin_client.get(reverse("telephony:phone_list")).content.decode()
    assert "Not registered" in listing


# --- 3: every change is followed at once --------------------------------------------------

def test_edited_codecs_and_caller_id_are_what_asterisk_reads(pbx, admin_client):
    phone = create_in_form(admin_client, pbx.server)
    response = admin_client.post(
        reverse("telephony:phone_edit", args=[phone.pk]),
        form_data(pbx.server, codecs=["alaw"], caller_id_name="Bob Smith",
                  caller_id_number="+15550007101"))
    assert response.status_code == 302
    out = endpoint(pbx, "7101")
    assert re.search(r"^ allow\s+: \(alaw\)$", out, re.M), out
    assert re.search(r'^ callerid\s+: "Bob Smith" <\+15550007101>$', out, re.M), out


def test_a_renamed_extension_moves_in_asterisk_and_registers_under_its_new_number(
        pbx, admin_client):
    phone = create_in_form(admin_client, pbx.server)
    response = admin_client.post(reverse("telephony:phone_edit", args=[phone.pk]),
                                 form_data(pbx.server, extension="7102"))
    assert response.status_code == 302
    assert not known(pbx, "7101")
    assert known(pbx, "7102")
    assert pbx.register("7102", phone.secret).returncode == 0
    assert pbx.register("7101", phone.secret).returncode != 0


def test_a_deactivated_extension_cannot_register_and_a_reactivated_one_can(pbx, admin_client):
    phone = create_in_form(admin_client, pbx.server)
    assert pbx.register("7101", phone.secret).returncode == 0
    edit = reverse("telephony:phone_edit", args=[phone.pk])
    assert admin_client.post(edit, form_data(pbx.server, is_active="")).status_code == 302

    refused = pbx.register("7101", phone.secret)
    assert refused.returncode == 1 and 200 not in refused.received_statuses()
    assert not known(pbx, "7101")
    assert not PsContact.objects.filter(endpoint="7101").exists()

    assert admin_client.post(edit, form_data(pbx.server)).status_code == 302
    assert pbx.register("7101", phone.secret).returncode == 0


def test_a_deleted_extension_is_gone_from_asterisk_with_its_contacts(pbx, admin_client):
    phone = create_in_form(admin_client, pbx.server)
    reg = pbx.register("7101", phone.secret)
    assert reg.returncode == 0
    assert "7101/sip:" in pbx.cli("pjsip show contacts")

    response = admin_client.post(reverse("telephony:phone_delete", args=[phone.pk]))

    assert response.status_code == 302
    assert not known(pbx, "7101")
    assert "7101/sip:" not in pbx.cli("pjsip show contacts")
    assert not PsContact.objects.filter(endpoint="7101").exists()
    assert pbx.register("7101", phone.secret).returncode == 1


def test_a_bulk_create_of_200_shows_200_more_endpoints(pbx, admin_client):
    create_in_form(admin_client, pbx.server)
    before = endpoint_count(pbx)
    response = admin_client.post(reverse("telephony:phone_bulk_create"), {
        "start": "7200", "end": "7399", "name_pattern": "Agent {ext}",
        "server": str(pbx.server.pk), "context": "agents", "codecs": ["ulaw", "alaw"],
        "transport": "transport-udp", "max_contacts": "1", "confirm": "1"})
    assert response.status_code == 302
    assert endpoint_count(pbx) == before + 200
    last = Phone.objects.get(extension="7399")
    assert pbx.register("7399", last.secret).returncode == 0


def test_a_csv_import_update_changes_what_asterisk_reads(pbx, admin_client):
    phone = create_in_form(admin_client, pbx.server)
    csv = ("extension,name,server,codecs,caller_id_name,caller_id_number\n"
           f"7101,Bob desk,{pbx.server.name},alaw,Imported,+15550009999\n")
    dry_run = admin_client.post(reverse("telephony:phone_import"), {
        "file": SimpleUploadedFile("x.csv", csv.encode(), content_type="text/csv")})
    assert dry_run.context["plan"].summary() == "0 new, 1 updated, 0 rejected"
    response = admin_client.post(reverse("telephony:phone_import"), {
        "confirm": "1", "data": dry_run.context["confirm_data"],
        "fingerprint": dry_run.context["plan"].fingerprint})
    assert response.status_code == 302, response.content.decode()[:2000]
    out = endpoint(pbx, "7101")
    assert re.search(r"^ allow\s+: \(alaw\)$", out, re.M), out
    assert re.search(r'^ callerid\s+: "Imported" <\+15550009999>$', out, re.M), out
    phone.refresh_from_db()
    assert pbx.register("7101", phone.secret).returncode == 0
