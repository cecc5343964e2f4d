"""The attack rules of issue 11 against every path that writes extensions_table: the Dialplan
pages, the services, the scaffold's sync, a rule saved around the services, and the Django
admin. Nothing of them reaches the table Asterisk runs. Runs on SQLite, PostgreSQL and MariaDB."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from telephony.models import DialplanExtension, ExtensionsTable, PsAuth
from telephony.realtime.dialplan import dialplan_sync_context
from telephony.realtime.sync import dialplan_sync_all
from telephony.services.dialplan import context_create, extension_create, extension_update

pytestmark = pytest.mark.django_db

# Each was saved and written to extensions_table before the allowlist.
ATTACKS = [
    ("NoOp", "${SH${Z}ELL(id)}"),
    ("NoOp", "${${F}(cmd)}"),
    ("Set", "F=SHELL(id)"),
    ("Originate", "Local/s@ctx,app,System,cmd"),
    ("Originate", "Local/s@ctx,app,TrySystem,cmd"),
    ("ExecIf", "$[1]?Originate(Local/s@ctx,app,System,cmd)"),
    ("Set", "FILE(/var/lib/asterisk/agi-bin/x.sh,,,l)=id"),
    ("GotoIf", "$[SHELL(id)]?1"),
    ("NoOp", "${shell(id)}"),
    ("AGI", "x.sh"),
    ("Gosub", "other,s,1"),
    ("Dial", "PJSIP/1001,30,U(other)"),
    ("NoOp", "a\u2028b"),
    ("NoOp", "a\u0085b"),
]


@pytest.fixture
def agents():
    return context_create(name="agents")


@pytest.mark.parametrize("application, arguments", ATTACKS)
def test_the_services_refuse_each_attack_and_write_nothing(agents, application, arguments):
    with pytest.raises(ValidationError):
        extension_create(context=agents, pattern="_X.", application=application,
                         arguments=arguments)
    safe = extension_create(context=agents, pattern="_X.", application="NoOp", arguments="ok")
    with pytest.raises(ValidationError):
        extension_update(extension=safe, pattern="_X.", application=application,
                         arguments=arguments)
    assert list(ExtensionsTable.objects.values_list("app", "appdata")) == [("NoOp", "ok")]


@pytest.mark.parametrize("application, arguments", ATTACKS)
def test_the_rule_page_refuses_each_attack(admin_client, agents, application, arguments):
    url = reverse("telephony:dialplan_rule_create", args=[agents.pk])
    response = admin_client.post(url, {"pattern": "_X.", "application": application,
                                       "arguments": arguments})
    # The form again with its error, or (a line separator) the input layer's 400 before it.
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.context["form"].errors
    assert not DialplanExtension.objects.exists()
    assert not ExtensionsTable.objects.exists()


def test_a_rule_saved_around_the_services_is_never_written(agents):
    extension_create(context=agents, pattern="_X.", application="NoOp", arguments="ok")
    DialplanExtension.objects.create(context=agents, pattern="_X.", priority=2, order=1,
                                     application="System", arguments="id")
    with pytest.raises(ValidationError, match="System"):
        dialplan_sync_context(agents)
    with pytest.raises(ValidationError):
        dialplan_sync_all()
    # The rows written before stay as they were: the sync is one transaction.
    assert list(ExtensionsTable.objects.values_list("app", "appdata")) == [("NoOp", "ok")]


@pytest.fixture
def root_client(django_user_model):
    root = django_user_model.objects.create_superuser("root", password="root-pass-123456")
    client = Client()
    client.force_login(root)
    return client


def test_the_django_admin_cannot_write_extensions_table(root_client, agents):
    extension_create(context=agents, pattern="_X.", application="NoOp", arguments="ok")
    row = ExtensionsTable.objects.get()
    add = root_client.post(reverse("admin:telephony_extensionstable_add"),
                           {"context": "agents", "exten": "_X.", "priority": 2, "app": "System",
                            "appdata": "id"})
    change = root_client.post(reverse("admin:telephony_extensionstable_change", args=[row.pk]),
                              {"context": "agents", "exten": "_X.", "priority": 1,
                               "app": "System", "appdata": "id"})
    delete = root_client.post(reverse("admin:telephony_extensionstable_delete", args=[row.pk]),
                              {"post": "yes"})
    assert add.status_code == 403 and delete.status_code == 403
    assert change.status_code in (200, 403)  # a read-only view of the row, never a save
    assert list(ExtensionsTable.objects.values_list("app", "appdata")) == [("NoOp", "ok")]


def test_the_django_admin_refuses_values_asterisk_would_split(root_client):
    PsAuth.objects.create(id="1001", auth_type="userpass", username="1001", password="good")
    url = reverse("admin:telephony_psauth_change", args=["1001"])
    for bad in ("se;cret^41", "se\ncret", "se\tcret", "se\x00cret"):
        response = root_client.post(url, {"id": "1001", "auth_type": "userpass",
                                          "username": "1001", "password": bad})
        if bad == "se\x00cret":  # refused by the input layer before the admin's form
            assert response.status_code == 400
            continue
        assert response.status_code == 200, bad
        assert "password" in response.context["adminform"].form.errors, bad
    assert PsAuth.objects.get().password == "good"
    # An ordinary value still saves.
    response = root_client.post(url, {"id": "1001", "auth_type": "userpass",
                                      "username": "1001", "password": "better"})
    assert response.status_code == 302
    assert PsAuth.objects.get().password == "better"
