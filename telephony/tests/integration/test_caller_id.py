"""Defect 9: with no campaign caller ID, calls went out as "Anonymous" (the app's Originate)
or as the bare extension (a softphone dialling itself). The server's default outbound caller ID
is what the carrier now receives either way."""

import pytest

from telephony.models import AsteriskServer
from telephony.tests.integration.harness import CARRIER_ADDRESS
from telephony.tests.integration.scenes import (
    agent_with_phone,
    api,
    carrier_on,
    scaffold,
    statuses_until,
)

pytestmark = pytest.mark.integration

DEFAULT = "+15550100200"


def from_header(carrier) -> str:
    return next(line for line in carrier.wait_for_log("FROM ") if line.startswith("FROM "))


@pytest.fixture
def setup(pbx, django_user_model):
    AsteriskServer.objects.filter(pk=pbx.server.pk).update(default_caller_id=DEFAULT)
    pbx.server.refresh_from_db()
    client, phone = agent_with_phone(pbx, django_user_model, username="bob", extension="7101",
                                     caller_id_name="Agent 7101", caller_id_number="7101")
    carrier = pbx.sipp_uas("carrier_answer", address=CARRIER_ADDRESS)
    carrier_on(pbx, carrier)
    scaffold()
    return client, phone, carrier


def test_an_app_call_without_a_campaign_carries_the_default_caller_id(pbx, setup,
                                                                      events_worker):
    client, phone, carrier = setup
    uas = pbx.phone("7101", phone.secret)
    status, body = api(client, "call_originate", {"phone_number": "+15551234567"})
    assert status == 201, body
    assert statuses_until(body["call_id"], {"answered", "failed"})[-1] == "answered"

    sent = from_header(carrier)
    assert f"<sip:{DEFAULT}@" in sent, sent
    assert "Anonymous" not in sent and "anonymous.invalid" not in sent
    # The agent's phone is shown the number the customer sees.
    assert any("FROM" in line and DEFAULT in line for line in uas.logs()), uas.logs()


def test_a_call_dialled_on_the_softphone_carries_the_default_caller_id(pbx, setup):
    _client, phone, carrier = setup
    assert pbx.register("7101", phone.secret).returncode == 0

    call = pbx.dial("7101", phone.secret, "+15551234567")
    assert call.wait(15) == 0, call.messages()[-2000:]

    sent = from_header(carrier)
    assert f"<sip:{DEFAULT}@" in sent, sent
    assert "7101" not in sent, sent
