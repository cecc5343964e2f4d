"""4. Calls through the JSON API on a real Asterisk: the agent's phone and the carrier are sipp,
the route is the scaffolded agents context, and the Call row follows what Asterisk reports
(the asterisk_events listener runs, as in production)."""

import re
import time

import pytest

from telephony.models import Call, DialplanExtension
from telephony.services.dialplan import extension_update
from telephony.tests.integration.harness import CARRIER_ADDRESS
from telephony.tests.integration.scenes import (
    agent_with_phone,
    api,
    bridged_together,
    carrier_on,
    channels,
    scaffold,
    statuses_until,
    wait_for,
)

pytestmark = pytest.mark.integration

NUMBER = "+15551234567"


@pytest.fixture
def agent(pbx, django_user_model):
    client, phone = agent_with_phone(pbx, django_user_model, username="bob", extension="7101",
                                     caller_id_name="Bob", caller_id_number="+15550007101")
    uas = pbx.phone("7101", phone.secret)
    return client, phone, uas


def call_through(pbx, agent, carrier_scenario, **carrier_fields):
    client, phone, phone_uas = agent
    carrier_uas = pbx.sipp_uas(carrier_scenario, address=CARRIER_ADDRESS)
    carrier_on(pbx, carrier_uas, **carrier_fields)
    scaffold()
    status, body = api(client, "call_originate", {"phone_number": "+1 555 123 4567"})
    assert status == 201, body
    assert body["status"] == "queued"
    return body["call_id"], carrier_uas


def test_an_agents_call_rings_the_phone_reaches_the_carrier_and_bridges(pbx, agent,
                                                                         events_worker):
    call_id, carrier = call_through(pbx, agent, "carrier_ring_then_answer")
    _client, _phone, phone_uas = agent

    seen = statuses_until(call_id, {"answered", "failed", "busy", "no_answer"})

    assert seen[-1] == "answered", seen
    assert "ringing" in seen and seen.index("ringing") < seen.index("answered")
    assert phone_uas.wait_for_log("ANSWERED")
    logs = carrier.wait_for_log("ANSWERED")
    assert f"INVITE sip:{NUMBER}@{CARRIER_ADDRESS}:{carrier.port}" in logs
    assert bridged_together(pbx, "PJSIP/7101-", "PJSIP/trunk-acme-"), pbx.cli("bridge show all")
    call = Call.objects.get(pk=call_id)
    assert call.channel.startswith("PJSIP/7101-") and call.peer_channel.startswith(
        "PJSIP/trunk-acme-")
    assert call.answered_at is not None


def test_hanging_up_through_the_api_ends_both_legs_and_completes_the_call(pbx, agent,
                                                                          events_worker):
    client, _phone, phone_uas = agent
    call_id, carrier = call_through(pbx, agent, "carrier_answer")
    statuses_until(call_id, {"answered"})

    status, body = api(client, "call_hangup", {"call_id": call_id})

    assert status == 200 and body["status"] == "completed", body
    assert phone_uas.wait_for_log("BYE") and carrier.wait_for_log("BYE")
    wait_for(lambda: not channels(pbx), what="no channels left")
    call = Call.objects.get(pk=call_id)
    assert call.status == "completed" and call.ended_at is not None
    assert call.hangup_cause == 16


def test_a_transfer_to_a_second_phone_bridges_the_customer_with_it(pbx, agent, events_worker,
                                                                    django_user_model):
    client, _phone, _uas = agent
    _other_client, other = agent_with_phone(pbx, django_user_model, username="carol",
                                            extension="7102")
    other_uas = pbx.phone("7102", other.secret)
    call_id, carrier = call_through(pbx, agent, "carrier_answer")
    statuses_until(call_id, {"answered"})

    status, body = api(client, "call_transfer", {"call_id": call_id, "target": "7102"})

    assert status == 200, body
    assert body["transferred_to"] == "7102" and body["status"] == "completed"
    other_uas.wait_for_log("ANSWERED")
    # The agent's leg is gone; the customer (trunk leg) talks to 7102 in one bridge.
    wait_for(lambda: not any(n.startswith("PJSIP/7101-") for n in channels(pbx)),
             what="the agent's leg ending")
    assert wait_for(lambda: bridged_together(pbx, "PJSIP/7102-", "PJSIP/trunk-acme-"),
                    what="the customer bridged with 7102")
    wait_for(lambda: Call.objects.get(pk=call_id).transfer_result == "answered",
             what="the transfer recorded as answered")


def test_a_transfer_to_a_phone_asterisk_cannot_reach_is_refused(pbx, agent, events_worker,
                                                                django_user_model):
    # Defect 4: Asterisk answered BlindTransfer Success, then failed Dial(PJSIP/7102) ("Could
    # not create dialog") and hung the customer up, while the call said "completed -> 7102".
    client, _phone, _uas = agent
    _other_client, other = agent_with_phone(pbx, django_user_model, username="carol",
                                            extension="7102")
    assert pbx.register("7102", other.secret).returncode == 0  # registered, then gone silent
    pbx.cli("pjsip qualify 7102")  # the next qualify, now rather than within 60 s
    pbx.wait_for_cli("pjsip show contacts", lambda out: re.search(r"7102/\S+\s+\S+\s+Unavail",
                                                                  out))
    call_id, _carrier = call_through(pbx, agent, "carrier_answer")
    statuses_until(call_id, {"answered"})

    status, body = api(client, "call_transfer", {"call_id": call_id, "target": "7102"})

    assert status == 409 and body["code"] == "target_unreachable", body
    assert "cannot reach extension 7102" in body["error"]
    call = Call.objects.get(pk=call_id)
    assert call.status == "answered" and call.transferred_to == ""
    assert bridged_together(pbx, "PJSIP/7101-", "PJSIP/trunk-acme-")  # the customer stays


def test_what_happened_after_a_transfer_asterisk_accepted_is_recorded(pbx, agent,
                                                                       events_worker,
                                                                       django_user_model):
    client, _phone, _uas = agent
    _other_client, other = agent_with_phone(pbx, django_user_model, username="carol",
                                            extension="7102")
    reg = pbx.register("7102", other.secret)
    pbx.sipp_uas("carrier_busy", port=reg.port)  # 7102's phone answers 486 Busy Here
    call_id, _carrier = call_through(pbx, agent, "carrier_answer")
    statuses_until(call_id, {"answered"})

    status, body = api(client, "call_transfer", {"call_id": call_id, "target": "7102"})

    assert status == 200 and body["transferred_to"] == "7102", body
    wait_for(lambda: Call.objects.get(pk=call_id).transfer_result == "busy",
             what="the transfer recorded as busy")
    wait_for(lambda: not channels(pbx), what="the customer hung up after the failed transfer")


def test_a_busy_carrier_ends_the_call_busy(pbx, agent, events_worker):
    call_id, carrier = call_through(pbx, agent, "carrier_busy")
    seen = statuses_until(call_id, {"completed", "failed", "busy", "no_answer", "cancelled"})
    assert seen[-1] == "busy", seen
    carrier.wait_for_log("BUSY")


def test_a_carrier_that_never_answers_ends_the_call_no_answer(pbx, agent, events_worker):
    client, phone, _uas = agent
    carrier_uas = pbx.sipp_uas("carrier_never_answer", address=CARRIER_ADDRESS)
    carrier_on(pbx, carrier_uas)
    scaffold()
    # The scaffold rings the carrier for 60 s; an admin may shorten it on the Dialplan page.
    for dial in DialplanExtension.objects.filter(context__name="agents", application="Dial",
                                                 arguments__contains="trunk-acme"):
        extension_update(extension=dial, pattern=dial.pattern, application="Dial",
                         arguments=dial.arguments.replace(",60", ",3"))
    time.sleep(1.1)  # pbx_realtime caches dialplan lookups for 1 s
    status, body = api(client, "call_originate", {"phone_number": NUMBER})
    assert status == 201, body

    seen = statuses_until(body["call_id"], {"completed", "failed", "busy", "no_answer",
                                            "cancelled"}, timeout=15)

    assert seen[-1] == "no_answer", seen
    carrier_uas.wait_for_log("CANCEL")

