"""Test Connection and Diagnose: AsteriskService against the fake AMI and ARI, and the server
page's buttons."""

from __future__ import annotations

import time

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from telephony.models import AsteriskServer, Phone
from telephony.services import AsteriskService
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.fakes.ami import closed_port, module_line

pytestmark = pytest.mark.django_db

MODULE_HEADER = ("Module                         Description                              "
                 "Use Count  Status      Support Level\n")
ALL_MODULES = {
    f"module show like {name}": MODULE_HEADER + module_line(f"{name}.so") + "1 modules loaded\n"
    for name in ("res_odbc", "res_config_odbc", "res_pjsip", "chan_pjsip")
}


def timed(function):
    started = time.monotonic()
    result = function()
    return result, time.monotonic() - started


# --- Test Connection ---
def test_a_healthy_server_is_connected_with_its_version(server):
    result = AsteriskService(server).test_connection()

    assert result.ok
    assert result.version == "22.10.1"
    assert result.ari.message.startswith("connected, Asterisk 22.10.1")
    assert result.ami.message == "logged in, Ping answered"
    server.refresh_from_db()
    assert server.connection_status == AsteriskServer.Status.OK
    assert server.asterisk_version == "22.10.1"
    assert server.last_checked_at is not None
    assert "ARI: connected" in server.connection_message
    assert "AMI: logged in" in server.connection_message


def test_it_checks_ari_at_the_asterisk_info_resource(server, fake_ari, fake_ami):
    AsteriskService(server).test_connection()

    assert [r["path"] for r in fake_ari.requests] == ["/ari/asterisk/info"]
    assert [a["Action"] for a in fake_ami.actions] == ["Login", "Ping", "CoreSettings", "Logoff"]


def test_an_ari_401_fails_with_the_reason(server):
    server.ari_password = "wrong"
    server.save()

    result, elapsed = timed(AsteriskService(server).test_connection)

    assert not result.ok
    assert result.ari.message == "Asterisk refused the ARI username/password"
    assert result.ami.ok
    assert result.version == "22.10.1"  # AMI still told us
    server.refresh_from_db()
    assert server.connection_status == AsteriskServer.Status.ERROR
    assert "ARI username/password" in server.connection_message
    assert elapsed < 2


def test_a_wrong_ami_password_fails_with_the_reason(server):
    server.ami_password = "wrong"
    server.save()

    result = AsteriskService(server).test_connection()

    assert result.ari.ok and not result.ami.ok
    assert result.ami.message == "Asterisk refused the AMI username/password"


def test_asterisk_down_fails_fast_on_both_protocols(server):
    server.ami_port, server.ari_port = closed_port(), closed_port()
    server.save()

    result, elapsed = timed(AsteriskService(server).test_connection)

    assert not result.ari.ok and not result.ami.ok
    assert "connection refused" in result.ari.message
    assert "connection refused" in result.ami.message
    assert elapsed < 2


def test_a_black_hole_times_out_once_not_twice(server, fake_ami, fake_ari):
    fake_ami.black_hole = fake_ari.black_hole = True

    result, elapsed = timed(AsteriskService(server).test_connection)

    assert "did not answer within 1 s" in result.ari.message
    assert "did not answer within 1 s" in result.ami.message
    assert elapsed < 1.9  # ARI and AMI are checked side by side


def test_with_the_default_timeout_a_hung_asterisk_is_reported_within_5_seconds(
        server, fake_ami, fake_ari, settings):
    settings.ASTERISK_TIMEOUT = 5.0
    fake_ami.black_hole = fake_ari.black_hole = True

    result, elapsed = timed(AsteriskService(server).test_connection)

    assert not result.ok
    assert "within 5 s" in result.ami.message and "within 5 s" in result.ari.message
    assert elapsed < 5.5


# --- Diagnose ---
def test_diagnose_passes_on_a_well_set_up_server(server, fake_ami, agent_phone):
    fake_ami.commands.update(ALL_MODULES)

    checks = AsteriskService(server).diagnose()

    assert [(c.name, c.status) for c in checks] == [
        ("AMI login", "ok"),
        ("ODBC connection 'asterisk'", "ok"),
        ("Module res_odbc", "ok"),
        ("Module res_config_odbc", "ok"),
        ("Module res_pjsip", "ok"),
        ("Module chan_pjsip", "ok"),
        ("Sample extension visible to PJSIP", "ok"),
    ]
    assert "1001" in checks[-1].detail
    # One login for everything.
    assert fake_ami.login_count == 1
    assert [a["Command"] for a in fake_ami.actions_named("Command")] == [
        "odbc show", "module show like res_odbc", "module show like res_config_odbc",
        "module show like res_pjsip", "module show like chan_pjsip"]
    assert fake_ami.actions_named("PJSIPShowEndpoint")[0]["Endpoint"] == "1001"


def test_diagnose_names_a_missing_module_and_how_to_load_it(server, fake_ami, agent_phone):
    fake_ami.commands.update(ALL_MODULES)
    fake_ami.commands["module show like res_config_odbc"] = "0 modules loaded\n"

    checks = {c.name: c for c in AsteriskService(server).diagnose()}

    check = checks["Module res_config_odbc"]
    assert check.status == "fail"
    assert "module load res_config_odbc.so" in check.fix


def test_diagnose_fails_a_module_that_declined_to_run(server, fake_ami, agent_phone):
    # docs/asterisk-behaviour.md: res_pjsip without its config declines to load, and stays
    # listed as Not Running.
    fake_ami.commands.update(ALL_MODULES)
    fake_ami.commands["module show like res_pjsip"] = (
        MODULE_HEADER + module_line("res_pjsip.so", "Not Running", "Basic SIP resource")
        + module_line("res_pjsip_session.so", "Running", "PJSIP Session resource")
        + "2 modules loaded\n")

    checks = {c.name: c for c in AsteriskService(server).diagnose()}

    assert checks["Module res_pjsip"].status == "fail"
    assert "Not Running" in checks["Module res_pjsip"].detail
    assert "Asterisk log" in checks["Module res_pjsip"].fix
    assert checks["Module chan_pjsip"].status == "ok"


def test_diagnose_reads_a_description_that_mentions_running(server, fake_ami, agent_phone):
    fake_ami.commands.update(ALL_MODULES)
    fake_ami.commands["module show like res_odbc"] = (
        MODULE_HEADER + module_line("res_odbc.so", "Not Running", "Running ODBC pool")
        + "1 modules loaded\n")

    checks = {c.name: c for c in AsteriskService(server).diagnose()}

    assert checks["Module res_odbc"].status == "fail"


def test_diagnose_tells_an_ami_user_without_permission_what_to_grant(server, fake_ami,
                                                                     agent_phone):
    fake_ami.forbidden_actions = {"command", "pjsipshowendpoint"}

    checks = AsteriskService(server).diagnose()

    failed = [c for c in checks if c.status == "fail"]
    assert len(failed) == 6  # odbc, four modules, the extension
    assert all("Permission denied" in c.detail for c in failed)
    assert all("/etc/asterisk/manager.conf" in c.fix for c in failed)
    assert "add command to its write = line" in failed[0].fix
    assert "add system to its write = line" in failed[-1].fix
    assert "module load" not in failed[1].fix


def test_diagnose_reports_a_dsn_that_is_not_connected(server, fake_ami, agent_phone):
    fake_ami.commands["odbc show"] = fake_ami.commands["odbc show"].replace("1 (out of 1)",
                                                                            "0 (out of 1)")

    check = AsteriskService(server).diagnose()[1]

    assert (check.status, check.name) == ("fail", "ODBC connection 'asterisk'")
    assert "no active connection" in check.detail
    assert "res_odbc.conf" in check.fix


def test_diagnose_reports_when_asterisk_last_failed_to_connect(server, fake_ami, agent_phone):
    # res_odbc.c's format, with the line it prints only after a failed attempt.
    fake_ami.commands["odbc show"] = (
        "\nODBC DSN Settings\n-----------------\n\n"
        "  Name:   other\n  DSN:    other\n    Number of active connections: 1 (out of 1)\n"
        "    Cache Type: stack (last release, first re-use)\n"
        "    Cache Usage: 1 cached out of 1\n    Logging: Disabled\n\n"
        "  Name:   asterisk\n  DSN:    asterisk\n"
        "    Last fail connection attempt: 2026-11-26 22:41:07\n"
        "    Number of active connections: 0 (out of 1)\n"
        "    Cache Type: stack (last release, first re-use)\n"
        "    Cache Usage: 0 cached out of 1\n    Logging: Disabled\n")

    check = AsteriskService(server).diagnose()[1]

    assert check.status == "fail"
    assert check.detail == ("'asterisk' has no active connection: Asterisk cannot log in to the "
                            "database. Its last failed attempt was at 2026-11-26 22:41:07.")


def test_diagnose_reports_a_dsn_asterisk_does_not_have(server, fake_ami, agent_phone):
    server.odbc_dsn = "autodialer"
    server.save()

    check = AsteriskService(server).diagnose()[1]

    assert check.status == "fail"
    assert "does not list 'autodialer'" in check.detail
    assert "[autodialer]" in check.fix


def test_diagnose_reports_an_extension_pjsip_cannot_see(server, fake_ami, agent):
    Phone.objects.create(extension="1005", name="Unseen", server=server, user=agent)

    check = AsteriskService(server).diagnose()[-1]

    assert check.status == "fail"
    assert "cannot see extension 1005" in check.detail
    assert "sorcery.conf" in check.fix


def test_diagnose_skips_the_extension_check_without_extensions(server, fake_ami):
    check = AsteriskService(server).diagnose()[-1]

    assert check.status == "skip"
    assert "no active extension" in check.detail


def test_diagnose_stops_at_a_failed_login_with_the_fix(server):
    server.ami_password = "wrong"
    server.save()

    checks = AsteriskService(server).diagnose()

    assert [(c.name, c.status) for c in checks] == [("AMI login", "fail")]
    assert "manager.conf" in checks[0].fix


def test_diagnose_of_an_unreachable_server_is_one_failed_check(server):
    server.ami_port = closed_port()
    server.save()

    (check,) = AsteriskService(server).diagnose()

    assert check.status == "fail" and "connection refused" in check.detail


# --- the buttons ---
def test_the_server_page_has_both_buttons(admin_client, server):
    response = admin_client.get(reverse("telephony:server_detail", args=[server.pk]))

    html = response.content.decode()
    assert reverse("telephony:server_test_connection", args=[server.pk]) in html
    assert reverse("telephony:server_diagnose", args=[server.pk]) in html
    assert "Test Connection" in html and "Diagnose" in html


def test_test_connection_button_reports_each_protocol(admin_client, server):
    server.ari_password = "wrong"
    server.save()

    response = admin_client.post(reverse("telephony:server_test_connection", args=[server.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("telephony:server_detail", args=[server.pk])
    shown = [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]
    assert shown == [("error", "lab: connection test failed."),
                     ("error", "ARI: Asterisk refused the ARI username/password"),
                     ("success", "AMI: logged in, Ping answered")]


def test_test_connection_shows_green_with_the_version(admin_client, server):
    response = admin_client.post(reverse("telephony:server_test_connection", args=[server.pk]),
                                 follow=True)

    html = response.content.decode()
    assert "lab: connected to Asterisk 22.10.1." in html
    assert "alert-success" in html


def test_diagnose_button_shows_each_check_and_its_fix(admin_client, server, fake_ami,
                                                      agent_phone):
    response = admin_client.post(reverse("telephony:server_diagnose", args=[server.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "res_config_odbc" in html and "module load res_config_odbc.so" in html
    assert "check" in html and "failed" in html


@pytest.mark.parametrize("name", ["server_test_connection", "server_diagnose"])
def test_only_admins_may_run_the_checks(name, server, fake_ami, agent_client, supervisor_client):
    url = reverse(f"telephony:{name}", args=[server.pk])

    assert Client().post(url).status_code == 302  # to the login page
    assert agent_client.post(url).status_code == 403
    assert supervisor_client.post(url).status_code == 403
    assert fake_ami.connection_count == 0


def test_the_checks_need_post(admin_client, server, fake_ami):
    assert admin_client.get(
        reverse("telephony:server_test_connection", args=[server.pk])).status_code == 405
    assert fake_ami.connection_count == 0


def test_diagnose_headline_does_not_claim_the_check_it_could_not_run(admin_client, server,
                                                                     fake_ami):
    fake_ami.commands.update(ALL_MODULES)
    response = admin_client.post(reverse("telephony:server_diagnose", args=[server.pk]))

    html = response.content.decode()
    assert "All checks passed" not in html and "sees its extensions" not in html
    assert "could not be run: Sample extension visible to PJSIP" in html


# --- a faulty ARI (issue 11, items 3 and 4) ---------------------------------------------------

@pytest.mark.parametrize("info", [[], "22.10.1", 42, True, {"system": []},
                                  {"system": {"version": ["22"]}, "status": "up"}])
def test_ari_json_of_another_shape_is_a_clear_failure(admin_client, server, fake_ari, info):
    fake_ari.info = info
    response = admin_client.post(reverse("telephony:server_test_connection", args=[server.pk]),
                                 follow=True)
    assert response.status_code == 200
    server.refresh_from_db()
    if isinstance(info, dict):  # an object without a usable version: connected, no version
        assert "ARI: connected, Asterisk (version not reported)" in server.connection_message
    else:
        assert server.connection_status == AsteriskServer.Status.ERROR
        assert "not an /asterisk/info object" in server.connection_message


def test_a_version_longer_than_its_column_is_cut_to_fit(admin_client, server, fake_ari):
    fake_ari.info = {"system": {"version": "22.10.1-" + "x" * 300 + "\x00\u202e"}}
    response = admin_client.post(reverse("telephony:server_test_connection", args=[server.pk]),
                                 follow=True)
    assert response.status_code == 200
    server.refresh_from_db()
    assert server.asterisk_version == ("22.10.1-" + "x" * 300)[:40]


def test_test_connection_answers_within_its_deadline_against_a_trickling_ari(
        admin_client, server, fake_ari, settings):
    settings.ASTERISK_TIMEOUT = 1.0
    fake_ari.trickle = 0.3
    started = time.monotonic()
    response = admin_client.post(reverse("telephony:server_test_connection", args=[server.pk]),
                                 follow=True)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < 2.5
    server.refresh_from_db()
    assert "did not answer within 1 s" in server.connection_message
