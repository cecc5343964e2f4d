"""After the listener was away, calls catch up with the channels Asterisk reports (AMI Status,
frames as transcripts/ami_status_live_call.txt)."""

import pytest

from telephony.models import Call
from telephony.services.call_events import CALL_ID_VARIABLE
from telephony.services.call_reconcile import GONE_MESSAGE, calls_reconcile, server_reconcile
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.call_fixtures import make_call
from telephony.tests.fakes.transcripts import HERE

pytestmark = pytest.mark.django_db


def test_a_call_placed_while_nobody_listened_learns_its_legs_and_is_answered(
        fake_ami, server, agent_phone):
    call = make_call(agent_phone)
    # Played with no listener connected: every event is lost.
    agent_leg, trunk_leg = fake_ami.play_call(action_id=str(call.id), channel="PJSIP/1001",
                                              variables={CALL_ID_VARIABLE: str(call.id)},
                                              hangup=False)
    call.refresh_from_db()
    assert call.status == "queued" and not call.uniqueid

    assert server_reconcile(server) == 1

    call.refresh_from_db()
    assert call.status == "answered" and call.answered_at is not None
    assert call.channel == agent_leg and call.peer_channel == trunk_leg
    assert call.uniqueid and call.linkedid == call.uniqueid


def test_a_call_whose_channels_are_gone_is_ended_as_it_stood(fake_ami, server, agent_phone):
    from django.utils import timezone

    answered = make_call(agent_phone, status="answered", uniqueid="1.1", linkedid="1.1",
                         channel="PJSIP/1001-00000001", answered_at=timezone.now())
    assert server_reconcile(server) == 1
    answered.refresh_from_db()
    assert answered.status == "completed" and answered.ended_at is not None
    assert answered.error_message == ""  # a completed call carries no error

    ringing = make_call(agent_phone, status="ringing", uniqueid="1.2", linkedid="1.2")
    assert server_reconcile(server) == 1
    ringing.refresh_from_db()
    assert ringing.status == "failed" and ringing.error_message == GONE_MESSAGE


def test_a_queued_call_nobody_reported_on_is_left_to_the_stale_sweep(fake_ami, server,
                                                                     agent_phone):
    call = make_call(agent_phone)
    assert server_reconcile(server) == 0
    call.refresh_from_db()
    assert call.status == "queued"


def test_the_real_status_frames_are_read_as_the_fake_sends_them(server, agent_phone):
    """The Status events Asterisk 22 sent for a bridged call, with `(null)` on the trunk leg."""
    text = (HERE / "ami_status_live_call.txt").read_text()
    call_id = next(line.split("=", 1)[1] for line in text.splitlines()
                   if line.startswith(f"Variable: {CALL_ID_VARIABLE}=") and "(null)" not in line)
    call = make_call(agent_phone)
    Call.objects.filter(pk=call.pk).update(id=call_id)
    channels = []
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if ": " in line and not line.startswith("#")]
        event = dict(line.split(": ", 1) for line in lines)
        if event.get("Event") == "Status":
            channels.append(event)
    assert calls_reconcile(server=server, channels=channels) == 1
    call = Call.objects.get(pk=call_id)
    assert call.status == "answered"
    assert call.channel == "PJSIP/7101-00000000"
    assert call.peer_channel == "PJSIP/trunk-acme-00000001"


def test_asterisk_out_of_reach_is_logged_not_raised(server, agent_phone, fake_ami, caplog):
    call = make_call(agent_phone, status="ringing", uniqueid="1.2")
    fake_ami.forbidden_actions = {"status"}
    assert server_reconcile(server) == 0
    call.refresh_from_db()
    assert call.status == "ringing"
    assert "Could not reconcile calls" in caplog.text
