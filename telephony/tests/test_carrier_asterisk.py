"""What the carrier pages ask Asterisk (issue #12 defects 2 and 10, issue #15): a registering
carrier's server reloads its outbound registrations after a save or delete, and the pages show
the trunk's health as Asterisk reports it, softly when Asterisk cannot be asked. The AMI fake
answers as transcripts/ami_outbound_registration.txt shows the real Asterisk 22 does."""

import pytest
from django.db import connection
from django.urls import reverse

from telephony.asterisk.ami import AmiClient
from telephony.models import AsteriskServer, Carrier
from telephony.services.carrier_health import carrier_health
from telephony.services.carriers import carrier_create, carrier_delete, carrier_update
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.fakes.ami import closed_port
from telephony.tests.fakes.transcripts import HERE

pytestmark = pytest.mark.django_db

MODULE = "res_pjsip_outbound_registration.so"


def acme(server, **overrides):
    values = dict(name="Acme", slug="acme", server=server, host="sip.acme.example",
                  auth_mode="credentials", username="acmeuser", password="s3cret-pw",
                  register=True)
    values.update(overrides)
    return carrier_create(**values)


def reloads(fake_ami):
    return [(a["Module"], a["LoadType"]) for a in fake_ami.actions_named("ModuleLoad")]


def form(server, **overrides):
    data = dict(name="Acme", slug="acme", server=server.pk, host="sip.acme.example", port=5060,
                transport="transport-udp", auth_mode="credentials", username="acmeuser",
                password="s3cret-pw", register="on", codecs=["ulaw", "alaw"],
                number_format="e164_plus", international_prefix="00", strip_digits=0,
                qualify_frequency=60, max_channels=0, is_active="on", order=0)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- defect 2: reload after a change --------------------------------------------------------

def test_saving_a_registering_carrier_reloads_pjsip_and_the_outbound_registrations(
        fake_ami, server):
    carrier = acme(server)
    assert reloads(fake_ami) == [("res_pjsip.so", "reload"), (MODULE, "reload")]
    assert carrier.warnings == []
    assert fake_ami.login_count == 1  # one login for both


def test_a_carrier_that_does_not_register_reloads_only_pjsip(fake_ami, server):
    # res_pjsip qualifies a realtime AOR as it last loaded it (defect 10).
    carrier = acme(server, register=False)
    carrier_update(carrier=carrier, qualify_frequency=0)
    assert reloads(fake_ami) == [("res_pjsip.so", "reload")] * 2


def test_turning_registration_off_or_deleting_reloads_the_registrations_too(fake_ami, server):
    def registration_reloads():
        return reloads(fake_ami).count((MODULE, "reload"))

    carrier = acme(server)
    carrier_update(carrier=carrier, register=False)  # Asterisk must drop the registration
    assert registration_reloads() == 2
    carrier_update(carrier=carrier, port=5070)  # neither before nor after registering
    assert registration_reloads() == 2
    carrier_update(carrier=carrier, register=True)
    assert carrier_delete(carrier=carrier) == []
    assert registration_reloads() == 4


def test_when_asterisk_cannot_be_asked_the_save_stands_with_a_warning(admin_client, server):
    AsteriskServer.objects.filter(pk=server.pk).update(ami_port=closed_port())
    response = admin_client.post(reverse("telephony:carrier_create"), form(server),
                                 follow=True)
    assert Carrier.objects.filter(slug="acme").exists()
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1, warnings
    assert "could not be asked to apply the change: Cannot reach Asterisk AMI" in warnings[0]
    assert f"`module reload res_pjsip.so` and `module reload {MODULE}`" in warnings[0]


def test_the_reload_asks_for_exactly_what_the_real_asterisk_answered(fake_ami, server):
    recorded = (HERE / "ami_outbound_registration.txt").read_text()
    assert "Module: res_pjsip_outbound_registration.so\nLoadType: reload" in recorded
    assert "Message: Module reloaded." in recorded
    assert "Message: Module not found." in recorded  # what the fake answers an unknown one
    client = AmiClient(server_config(server))
    client.module_reload(MODULE)
    with pytest.raises(Exception, match="Module not found"):
        client.module_reload("res_nonexistent.so")


def server_config(server):
    from telephony.services.asterisk import ami_config_for

    return ami_config_for(server)


# --- the state Asterisk reports ---------------------------------------------------------------

def test_the_detail_page_shows_the_registration_state_asterisk_reports(admin_client, fake_ami,
                                                                       server):
    carrier = acme(server)
    fake_ami.registrations = {"trunk-acme": "Registered"}
    fake_ami.endpoints["trunk-acme"] = [
        {"Event": "ContactStatusDetail", "AOR": "trunk-acme", "URI": "sip:sip.acme.example:5060",
         "Status": "Reachable", "RoundtripUsec": "1530", "EndpointName": "trunk-acme"}]
    page = admin_client.get(reverse("telephony:carrier_detail", args=[carrier.pk]))
    html = page.content.decode()
    assert "registration: <span class=\"text-success\">Registered</span>" in html
    assert "Reachable</span> (1.5 ms)" in html


def test_a_registration_asterisk_has_not_loaded_says_so(fake_ami, server):
    carrier = acme(server)
    fake_ami.endpoints["trunk-acme"] = []
    health = carrier_health(carrier)
    assert health.registration.startswith("Not loaded")
    assert health.reachability == "No contact"


def test_the_real_registration_frames_are_read_as_the_fake_sends_them(fake_ami, server):
    text = (HERE / "ami_outbound_registration.txt").read_text()
    for header in ("Event: OutboundRegistrationDetail", "ObjectName: trunk-acme",
                   "Status: Registered", "Status: Unregistered", "NextReg: 0",
                   "Event: OutboundRegistrationDetailComplete", "Registered: 0",
                   "NotRegistered: 1", "Status: NonQualified", "RoundtripUsec: N/A"):
        assert header in text
    fake_ami.registrations = {"trunk-acme": "Unregistered"}
    details = AmiClient(server_config(server)).outbound_registrations()
    assert [(d["ObjectName"], d["Status"]) for d in details] == [("trunk-acme", "Unregistered")]


# --- failing softly (issue #15) ----------------------------------------------------------------

@pytest.mark.parametrize("page", ["telephony:carrier_list", "telephony:carrier_detail"])
def test_the_pages_say_asterisk_could_not_be_asked_and_never_fail(admin_client, server, page):
    carrier = acme(server, register=False)
    AsteriskServer.objects.filter(pk=server.pk).update(ami_port=closed_port())
    args = [carrier.pk] if page.endswith("detail") else []
    response = admin_client.get(reverse(page, args=args))
    assert response.status_code == 200
    assert "Asterisk could not be asked: Cannot reach Asterisk AMI" in response.content.decode()


def test_a_silent_asterisk_costs_the_page_at_most_the_bounded_timeout(admin_client, fake_ami,
                                                                     server, settings):
    import time

    settings.ASTERISK_TIMEOUT = 30
    carrier = acme(server, register=False)
    fake_ami.black_hole = True
    started = time.monotonic()
    response = admin_client.get(reverse("telephony:carrier_detail", args=[carrier.pk]))
    assert time.monotonic() - started < 4.5  # HEALTH_TIMEOUT is 3 s
    assert "Asterisk could not be asked: Asterisk AMI at" in response.content.decode()


def test_an_inactive_carrier_is_not_asked_about(fake_ami, server):
    carrier = acme(server, register=False, is_active=False)
    assert carrier_health(carrier) is None
    assert fake_ami.actions_named("PJSIPShowEndpoint") == []


# --- defect 10: cause 3 on an outside call says the carrier is unreachable --------------------

def _hangup_cause_3(server, call):
    from telephony.services.call_events import handle_event

    # The phone leg's Hangup after Dial could not create the trunk's channel, as the real
    # Asterisk sends it (transcripts/ami_unreachable_trunk.txt's run: cause 3).
    handle_event(server, {"Event": "Hangup", "Channel": call.channel, "Uniqueid": call.uniqueid,
                          "Linkedid": call.linkedid, "Cause": "3",
                          "Cause-txt": "No route to destination"})
    call.refresh_from_db()
    return call


def test_cause_3_on_an_outside_call_says_the_carrier_is_unreachable(server, agent_phone):
    from telephony.tests.call_fixtures import make_call

    call = _hangup_cause_3(server, make_call(agent_phone, status="ringing", uniqueid="1.1",
                                             linkedid="1.1", channel="PJSIP/1001-00000001"))
    assert call.status == "failed" and call.hangup_cause == 3
    assert call.error_message.startswith("The carrier is unreachable")


def test_cause_3_calling_a_colleague_is_not_blamed_on_a_carrier(server, agent_phone):
    from telephony.tests.call_fixtures import make_call

    call = _hangup_cause_3(server, make_call(agent_phone, number="1002", status="ringing",
                                             uniqueid="1.2", linkedid="1.2",
                                             channel="PJSIP/1001-00000002"))
    assert call.status == "failed" and "carrier" not in call.error_message


def test_the_qualify_setting_is_written_to_the_trunks_aor(fake_ami, server):
    from telephony.models import PsAor

    carrier = acme(server, register=False, qualify_frequency=0)
    assert PsAor.objects.get(id="trunk-acme").qualify_frequency == 0
    carrier_update(carrier=carrier, qualify_frequency=15)
    assert PsAor.objects.get(id="trunk-acme").qualify_frequency == 15


def test_an_unreachable_trunk_shows_so_on_its_page(admin_client, fake_ami, server):
    text = (HERE / "ami_unreachable_trunk.txt").read_text()
    assert "Status: Unreachable" in text and "RoundtripUsec: N/A" in text
    carrier = acme(server, register=False)
    fake_ami.endpoints["trunk-acme"] = [
        {"Event": "ContactStatusDetail", "AOR": "trunk-acme", "URI": "sip:127.0.0.2:5060",
         "Status": "Unreachable", "RoundtripUsec": "N/A", "EndpointName": "trunk-acme"}]
    html = admin_client.get(reverse("telephony:carrier_detail", args=[carrier.pk])).content
    assert b'<span class="text-danger">Unreachable</span>' in html


# --- every write path reloads, not only the Carriers page ------------------------------------

def test_the_django_admin_reloads_like_the_carriers_page(admin_client, fake_ami, server):
    admin_client.post(reverse("admin:telephony_carrier_add"), form(server))
    carrier = Carrier.objects.get(slug="acme")
    assert reloads(fake_ami) == [("res_pjsip.so", "reload"), (MODULE, "reload")]

    admin_client.post(reverse("admin:telephony_carrier_change", args=[carrier.pk]),
                      form(server, register=None))
    # It registered before the change: the registration module drops its registration.
    assert reloads(fake_ami)[2:] == [("res_pjsip.so", "reload"), (MODULE, "reload")]

    admin_client.post(reverse("admin:telephony_carrier_delete", args=[carrier.pk]),
                      {"post": "yes"})
    assert not Carrier.objects.exists()
    assert reloads(fake_ami)[4:] == [("res_pjsip.so", "reload")]


def test_the_django_admin_says_when_asterisk_could_not_be_asked(admin_client, server):
    server.ami_port = closed_port()
    server.save()
    response = admin_client.post(reverse("admin:telephony_carrier_add"), form(server),
                                 follow=True)
    assert Carrier.objects.filter(slug="acme").exists()  # the change stands
    assert "could not be asked to apply the change" in response.content.decode()


@pytest.mark.skipif(connection.vendor == "sqlite",
                    reason="setup_asterisk_realtime refuses SQLite (Asterisk cannot read it)")
def test_sync_existing_reloads_each_carriers_server_once(fake_ami, server):
    import io

    from django.core.management import call_command

    acme(server)
    acme(server, name="Beta", slug="beta", register=False)
    before = len(reloads(fake_ami))
    out = io.StringIO()

    call_command("setup_asterisk_realtime", "--sync-existing", stdout=out)

    assert reloads(fake_ami)[before:] == [("res_pjsip.so", "reload"), (MODULE, "reload")]
    assert "Asked 1 server(s) to reload their carriers" in out.getvalue()
