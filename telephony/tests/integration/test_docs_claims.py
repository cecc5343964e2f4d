"""What the operator's guides tell people to type at the Asterisk CLI does what they say on a
real Asterisk 22 (defect 6: `dialplan show <number>@agents` was suggested and lists nothing)."""

from pathlib import Path

import pytest

from telephony.models import Phone
from telephony.tests.integration.harness import CARRIER_ADDRESS
from telephony.tests.integration.scenes import carrier_on, scaffold, wait_for

pytestmark = pytest.mark.integration

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_dialplan_show_never_lists_realtime_rows_as_the_guide_says(pbx):
    Phone.objects.create(extension="7101", name="Bob", server=pbx.server)
    carrier_on(pbx, pbx.sipp_uas("carrier_answer", address=CARRIER_ADDRESS))
    scaffold()
    guide = (DOCS / "dialplan-and-carriers.md").read_text()
    assert "There is no existence of 5551234@agents" in guide
    out = pbx.cli("dialplan show +15551234567@agents")
    assert "There is no existence of +15551234567@agents extension" in out
    assert "Realtime/agents@extensions" in pbx.cli("dialplan show agents")
    rows = pbx.cli("realtime load extensions context agents")
    assert rows.count(" context ") == 1  # one row, not the context


def test_the_test_call_the_guide_gives_shows_the_rule_a_number_reaches(pbx):
    Phone.objects.create(extension="7101", name="Bob", server=pbx.server)
    carrier = pbx.sipp_uas("carrier_answer", address=CARRIER_ADDRESS)
    carrier_on(pbx, carrier)
    scaffold()
    guide = (DOCS / "dialplan-and-carriers.md").read_text()
    command = "channel originate Local/+15551234567@agents application Wait 5"
    assert command in guide

    pbx.cli(command)

    carrier.wait_for_log("ANSWERED")
    wait_for(lambda: 'Executing [+15551234567@agents:1] Dial("Local/+15551234567@agents-'
             in pbx.instance.log_since_start(), what="the Dial step in the log")
