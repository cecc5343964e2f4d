"""6. The asterisk_events listener survives an Asterisk restart: it logs in again by itself, the
call that was up when Asterisk went away is closed, and new calls are followed again."""

import pytest

from telephony.models import Call
from telephony.tests.integration.harness import CARRIER_ADDRESS
from telephony.tests.integration.scenes import (
    agent_with_phone,
    api,
    carrier_on,
    scaffold,
    statuses_until,
    wait_for,
)

pytestmark = pytest.mark.integration


def test_the_listener_reconnects_after_a_restart_and_the_calls_catch_up(pbx, events_worker,
                                                                        django_user_model):
    client, phone = agent_with_phone(pbx, django_user_model, username="bob", extension="7101")
    phone_uas = pbx.phone("7101", phone.secret)
    carrier_on(pbx, pbx.sipp_uas("carrier_answer", address=CARRIER_ADDRESS))
    scaffold()
    status, first = api(client, "call_originate", {"phone_number": "+15551234567"})
    assert status == 201, first
    statuses_until(first["call_id"], {"answered"})

    pbx.restart()

    # The call Asterisk dropped is closed, not left "answered" for ever.
    wait_for(lambda: not Call.objects.get(pk=first["call_id"]).is_live, timeout=15,
             what="the dropped call ending")
    assert phone_uas.returncode is None  # the phone is still there (its contact is in the DB)
    status, second = api(client, "call_originate", {"phone_number": "+15551234567"})
    assert status == 201, second
    seen = statuses_until(second["call_id"], {"answered", "failed", "busy", "no_answer"},
                          timeout=20)
    assert seen[-1] == "answered", seen
