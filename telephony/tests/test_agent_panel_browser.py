"""The agent panel in headless Chromium, against the live test server and the fake AMI.

Nothing of ours is patched. The page calls the real call-control API, which talks AMI to
`FakeAmiServer`. The call's states come the way they do in production: the test makes the fake
emit the AMI events a real Asterisk sends, the `asterisk_events` worker's own `listen()` (in a
thread, logged in to the fake) hands each one to `handle_event`, which moves the Call row, and
the page's polling shows it.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.utils import timezone
from playwright.sync_api import expect

from conftest import browser_login
from telephony.management.commands.asterisk_events import listen
from telephony.models import AsteriskServer, Call, Phone, PsContact
from telephony.services.call_events import CALL_ID_VARIABLE
from telephony.tests.campaign_helpers import running_campaign
from telephony.tests.fakes import wait_until
from telephony.tests.fakes.ami import (
    FakeAmiServer,
    bridge_state,
    closed_port,
    registered_endpoint,
    snapshot,
)

pytestmark = pytest.mark.browser

# The screenshot in docs/ and the README is this test's; it is rewritten only on request
# (UPDATE_SCREENSHOTS=1 make test), so an ordinary test run leaves the work tree clean.
DOCS_SCREENSHOT = Path(settings.BASE_DIR) / "docs" / "agent-panel.png"
UNREACHABLE = ("The phone system is not reachable right now. "
               "Try again in a minute or tell your supervisor.")
NO_PHONE = "No active phone assigned — ask an admin to assign you an extension"


# --- the world around the page -------------------------------------------------------------

@pytest.fixture
def ami():
    with FakeAmiServer() as fake:
        yield fake


def _server(ami_port: int) -> AsteriskServer:
    return AsteriskServer.objects.create(
        name="pbx1", host="pbx.example.com", ami_host="127.0.0.1", ami_port=ami_port,
        ami_username="admin", ami_password="amipass", ari_host="127.0.0.1",
        ari_username="ari", ari_password="aripass")


def _phone(server: AsteriskServer, user, extension: str = "1001") -> Phone:
    return Phone.objects.create(extension=extension, name=f"{user.username} desk",
                                server=server, user=user)


def _register(extension: str, ami: FakeAmiServer | None = None) -> None:
    """The softphone registers: Asterisk has its contact (what the panel shows) and writes
    its ps_contacts row."""
    if ami is not None:
        ami.endpoints[extension] = registered_endpoint(
            extension, user_agent="MicroSIP/3.21.3", address="192.0.2.10", port=5070)
    PsContact.objects.create(
        id=f"{extension};@9f8e7d6c5b4a", endpoint=extension, uri=f"sip:{extension}@192.0.2.10:5070",
        user_agent="MicroSIP/3.21.3", via_addr="192.0.2.10", via_port=5070,
        expiration_time=int(time.time()) + 3600)


class EventListener:
    """The `asterisk_events` worker of a deployment, in a thread: its `listen()` logged in to
    the fake AMI, every event applied by handle_event() in asgiref's worker thread."""

    def __init__(self, server: AsteriskServer, ami: FakeAmiServer) -> None:
        self.server, self.ami = server, ami
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="ami-events", daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self._stop = asyncio.Event()
            try:
                await listen(self._stop, [self.server])
            finally:
                # The worker thread's connection, or the test database could not be dropped.
                await sync_to_async(connections.close_all)()

        self._loop.run_until_complete(main())

    def __enter__(self) -> EventListener:
        self._thread.start()
        try:
            self.ami.wait_for_listeners(1, timeout=5)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is None:  # never started its loop: nothing to stop (a daemon thread)
            return
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)
        self._loop.close()


class PlayedCall:
    """The AMI events of one originated call, step by step, as a real Asterisk sends them
    (see the fake's `_play` and ../shared/asterisk/transcripts/ami_originate_pjsip_1001.txt)."""

    def __init__(self, ami: FakeAmiServer, originate: dict[str, Any]) -> None:
        self.ami = ami
        self.call_id = originate["ActionID"]
        self.exten = originate["Exten"]
        self.context = originate["Context"]
        # The phone leg stays in the fake's channel list, so its Hangup action finds it.
        self.agent = ami.add_channel(f"{originate['Channel']}-0000002a", State="0",
                                     Context=self.context, Exten="s")
        self.peer: dict[str, str] | None = None

    def _emit(self, event: str, *parts: dict[str, str], **extra: str) -> None:
        fields: dict[str, str] = {}
        for part in parts:
            fields.update(part)
        self.ami.emit({"Event": event, "Privilege": "call,all", **fields, **extra})

    def ring(self) -> None:
        """Asterisk creates the phone leg, sets our call id on it and rings the phone."""
        agent = self.agent
        self._emit("Newchannel", snapshot(agent))
        self._emit("VarSet", snapshot(agent), Privilege="dialplan,all",
                   Variable=CALL_ID_VARIABLE, Value=self.call_id)
        self._emit("DialBegin", snapshot(agent, "Dest"),
                   DialString=agent["Channel"].partition("/")[2].rsplit("-", 1)[0])
        agent["State"] = "5"
        self._emit("Newstate", snapshot(agent))

    def answer(self) -> None:
        """The agent picks up, the dialplan dials the number, the customer answers."""
        agent = self.agent
        agent["State"] = "6"
        self._emit("Newstate", snapshot(agent))
        self._emit("DialEnd", snapshot(agent, "Dest"), DialStatus="ANSWER")
        self._emit("OriginateResponse", ActionID=self.call_id, Response="Success",
                   Channel=agent["Channel"], Context=self.context, Exten=self.exten,
                   Reason="4", Uniqueid=agent["Uniqueid"], CallerIDNum="<unknown>",
                   CallerIDName="<unknown>")
        agent["Exten"] = self.exten
        peer = self.peer = self.ami.add_channel("PJSIP/carrier-0000002b", State="6",
                                                Context="from-trunk", Exten=self.exten,
                                                Linkedid=agent["Uniqueid"])
        self._emit("Newchannel", snapshot(peer))
        self._emit("DialBegin", snapshot(agent), snapshot(peer, "Dest"),
                   DialString=f"{self.exten}@carrier")
        self._emit("DialEnd", snapshot(agent), snapshot(peer, "Dest"), DialStatus="ANSWER")
        for members, leg in enumerate((agent, peer), start=1):
            self._emit("BridgeEnter", bridge_state("bridge-1", members), snapshot(leg))


def _originate(ami: FakeAmiServer) -> dict[str, Any]:
    wait_until(lambda: ami.actions_named("Originate"), timeout=5)
    return ami.actions_named("Originate")[0]


def _call_on(page, number: str | None = None) -> None:
    if number is not None:
        page.get_by_label("Number to call").fill(number)
    page.get_by_role("button", name="Call", exact=True).click()


# --- the tests -------------------------------------------------------------------------------

def test_agent_dials_sees_ringing_then_answered_and_hangs_up(page, ami, agent, tmp_path):
    server = _server(ami.port)
    _phone(server, agent)
    _register("1001", ami)
    campaign = running_campaign("Spring renewals", agents=[agent])
    earlier = [
        Call.objects.create(user=agent, number="+15557654321", status=Call.Status.NO_ANSWER,
                            hangup_cause=19, hangup_cause_text="User alerting, no answer",
                            duration=0),
        Call.objects.create(user=agent, number="+442071838750", status=Call.Status.COMPLETED,
                            duration=184, campaign=campaign),
    ]
    for minutes, call in zip((47, 12), earlier, strict=True):
        Call.objects.filter(pk=call.pk).update(created_at=timezone.now()
                                               - timedelta(minutes=minutes))
    ami.originate_outcomes["PJSIP/1001"] = "silent"  # the test plays the events itself

    with EventListener(server, ami):
        browser_login(page, "bob", "pw-bob-123")
        expect(page).to_have_url(page.base_url + "/telephony/agent/")
        expect(page.locator("#registration-text")).to_have_text(
            "Registered — MicroSIP/3.21.3, 192.0.2.10:5070")

        for key in "5551234567":
            page.get_by_role("button", name=key, exact=True).click()
        expect(page.get_by_label("Number to call")).to_have_value("5551234567")
        page.get_by_label("Campaign").select_option(label="Spring renewals")
        hangup = page.get_by_role("button", name="Hang up")
        transfer = page.get_by_role("button", name="Transfer", exact=True)
        state = page.locator("#call-state")
        expect(hangup).to_be_disabled()
        _call_on(page)

        originate = _originate(ami)
        assert originate["Channel"] == "PJSIP/1001"
        assert originate["Exten"] == "+15551234567"
        assert originate["Context"] == "agents"
        expect(state).to_have_text("Queued")
        expect(page.get_by_role("button", name="Call", exact=True)).to_be_disabled()

        played = PlayedCall(ami, originate)
        played.ring()
        expect(state).to_have_text("Ringing")
        expect(hangup).to_be_enabled()
        expect(transfer).to_be_disabled()  # nothing to transfer before the customer answers

        played.answer()
        expect(state).to_have_text("Answered")
        expect(transfer).to_be_enabled()
        expect(page.locator("#call-detail")).to_have_text("Connected. Campaign: Spring renewals.")
        expect(page.locator("#call-timer")).to_have_text(re.compile(r"^0:0[2-9]$"),
                                                         timeout=5000)
        expect(page.locator("#recent-calls tbody tr").first).to_contain_text("Answered")
        shot = (DOCS_SCREENSHOT if os.environ.get("UPDATE_SCREENSHOTS") == "1"
                else tmp_path / "agent-panel.png")
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes().startswith(b"\x89PNG")

        hangup.click()
        expect(state).to_have_text("Call ended")
        hangups = ami.actions_named("Hangup")
        assert [action["Channel"] for action in hangups] == [played.agent["Channel"]]
        expect(page.locator("#call-detail")).to_contain_text("Completed")
        expect(hangup).to_be_disabled()
        expect(page.get_by_role("button", name="Call", exact=True)).to_be_enabled()
        first_row = page.locator("#recent-calls tbody tr").first
        expect(first_row).to_contain_text("+15551234567")
        expect(first_row).to_contain_text("Completed")

    call = Call.objects.get(user=agent, number="+15551234567")
    assert call.status == Call.Status.COMPLETED
    assert call.campaign == campaign
    assert call.answered_at is not None and call.duration >= 2


def test_agent_transfers_an_answered_call(page, ami, agent, other_agent):
    server = _server(ami.port)
    _phone(server, agent)
    _phone(server, other_agent, "1002")
    ami.endpoints["1002"] = registered_endpoint("1002")
    ami.originate_outcomes["PJSIP/1001"] = "silent"

    with EventListener(server, ami):
        browser_login(page, "bob", "pw-bob-123")
        _call_on(page, "+1 555 123 4567")
        played = PlayedCall(ami, _originate(ami))
        played.ring()
        played.answer()
        expect(page.locator("#call-state")).to_have_text("Answered")
        page.reload()  # a reload mid-call picks the live call up again
        expect(page.locator("#call-state")).to_have_text("Answered")
        expect(page.locator("#call-timer")).to_be_visible()

        page.get_by_label("Transfer to (extension or number)").fill("1002")
        page.get_by_role("button", name="Transfer", exact=True).click()
        expect(page.locator("#call-state")).to_have_text("Call ended")
        expect(page.locator("#call-detail")).to_contain_text("transferred to 1002")

    transfer = ami.actions_named("BlindTransfer")[0]
    assert (transfer["Channel"], transfer["Exten"]) == (played.agent["Channel"], "1002")


def test_a_phone_that_does_not_answer_ends_the_call_with_the_reason(page, ami, agent):
    server = _server(ami.port)
    _phone(server, agent)
    ami.originate_outcomes["PJSIP/1001"] = "no_answer"  # Asterisk's OriginateResponse, Reason 3

    with EventListener(server, ami):
        browser_login(page, "bob", "pw-bob-123")
        _call_on(page, "5551234567")
        expect(page.locator("#call-state")).to_have_text("Call ended")
        expect(page.locator("#call-detail")).to_have_text(
            "No answer — Your phone did not answer")
        expect(page.locator("#recent-calls tbody tr").first).to_contain_text("No answer")
        expect(page.get_by_role("button", name="Call", exact=True)).to_be_enabled()


def test_a_call_asterisk_confirms_too_late_is_still_followed(page, ami, agent, settings):
    settings.ASTERISK_TIMEOUT = 1.0
    server = _server(ami.port)
    _phone(server, agent)
    ami.originate_ack_delay = 2.0  # queued, but "Originate successfully queued" comes late
    ami.originate_outcomes["PJSIP/1001"] = "silent"  # the test plays the events itself

    with EventListener(server, ami):
        browser_login(page, "bob", "pw-bob-123")
        _call_on(page, "5551234567")
        expect(page.locator("#panel-message")).to_contain_text(
            "did not confirm the call in time, but it may still ring your phone")
        expect(page.locator("#call-state")).to_have_text("Queued")
        hangup = page.get_by_role("button", name="Hang up")
        expect(hangup).to_be_enabled()  # the agent can cancel what may be ringing

        PlayedCall(ami, _originate(ami)).ring()
        expect(page.locator("#call-state")).to_have_text("Ringing")


def test_an_agent_without_a_phone_is_told_to_ask_for_one(page, agent):
    browser_login(page, "bob", "pw-bob-123")
    expect(page.locator("#no-phone")).to_have_text(NO_PHONE)

    _call_on(page, "5551234567")
    expect(page.locator("#panel-message")).to_have_text(NO_PHONE)
    expect(page.locator("#call-state")).to_have_text("No call")
    assert not Call.objects.exists()


def test_errors_read_as_words_an_agent_understands_asterisk_down_included(page, agent):
    _phone(_server(closed_port()), agent)
    browser_login(page, "bob", "pw-bob-123")
    expect(page.locator("#registration-text")).to_have_text("Your softphone is not registered")
    expect(page.locator("#softphone-settings")).to_contain_text("pbx.example.com")
    message = page.locator("#panel-message")
    number = page.get_by_label("Number to call")

    number.fill("12")
    number.press("Enter")  # Enter calls
    expect(message).to_have_text(re.compile(r"^That number doesn't look right: \S"))

    number.fill("5551234567")
    number.press("Enter")
    expect(message).to_have_text(UNREACHABLE)  # the AMI port refuses connections
    expect(page.get_by_role("button", name="Call", exact=True)).to_be_enabled()

    page.route("**/telephony/calls/originate/", lambda route: route.abort())
    page.get_by_role("button", name="Call", exact=True).click()
    expect(message).to_contain_text("Cannot reach the autodialer server")


def test_an_agent_never_sees_another_agents_calls(page, agent, other_agent):
    server = _server(closed_port())
    _phone(server, agent)
    Call.objects.create(user=agent, number="+15551110000", status=Call.Status.COMPLETED)
    theirs = Call.objects.create(user=other_agent, number="+15559990000",
                                 status=Call.Status.ANSWERED)

    browser_login(page, "bob", "pw-bob-123")
    recent = page.locator("#recent-calls")
    expect(recent).to_contain_text("+15551110000")
    expect(recent).not_to_contain_text("+15559990000")
    expect(page.locator("#call-state")).to_have_text("No call")  # their live call is not ours

    response = page.request.get(f"{page.base_url}/telephony/calls/{theirs.pk}/status/")
    assert response.status == 404
    assert response.json()["code"] == "not_found"
    response = page.request.get(f"{page.base_url}/telephony/calls/current/")
    assert response.json() == {"call": None}


def test_the_dialpad_cleans_pasted_numbers_and_takes_typing_anywhere(page, agent):
    Call.objects.create(user=agent, number="+15557654321", status=Call.Status.COMPLETED)
    browser_login(page, "bob", "pw-bob-123")
    number = page.get_by_label("Number to call")

    def paste(text: str) -> None:
        number.evaluate("""(input, text) => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            input.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data,
                                                             bubbles: true, cancelable: true}));
        }""", text)

    number.focus()
    paste("(555) 123-4567")
    expect(number).to_have_value("5551234567")
    number.fill("")
    paste("+1 555-123-4567")
    expect(number).to_have_value("+15551234567")

    number.fill("")
    number.press_sequentially("1-800 abc")  # letters and separators never get in
    expect(number).to_have_value("1800")

    page.get_by_role("button", name="Clear").click()
    expect(number).to_have_value("")
    page.locator("h1").click()  # focus out of every field: digits still reach the number
    page.keyboard.type("42#")
    expect(number).to_have_value("42#")
    page.get_by_role("button", name="+", exact=True).click()
    expect(number).to_have_value("+42#")
    page.get_by_role("button", name="Delete last digit").click()
    expect(number).to_have_value("+42")

    page.get_by_role("button", name="Redial +15557654321").click()
    expect(number).to_have_value("+15557654321")


@pytest.mark.parametrize("width,height", [(1280, 800), (1024, 768), (768, 1024)])
def test_it_fits_a_laptop_and_a_tablet_screen(page, agent, width, height):
    Call.objects.create(user=agent, number="+442071838750", status=Call.Status.COMPLETED,
                        duration=184, hangup_cause_text="Normal Clearing")
    page.set_viewport_size({"width": width, "height": height})
    browser_login(page, "bob", "pw-bob-123")
    expect(page.get_by_role("button", name="Call", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
    key = page.get_by_role("button", name="5", exact=True).bounding_box()
    assert key["width"] >= 44 and key["height"] >= 44  # a comfortable touch target
