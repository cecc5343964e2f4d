"""The dialer on a real Asterisk: `manage.py run_dialer` as its own process (so it can be
killed), agents whose sipp phones answer the session call, a carrier whose answer depends on
the number, and an ARI observer that timestamps what Asterisk reports (a customer channel's
state change to Up = answered, its ChannelEnteredBridge into an agent's bridge =
connected)."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection
from websockets.sync.client import connect

from telephony.models import CallingRules, Campaign, Lead, LeadList
from telephony.tests.integration.harness import stop_process

ROOT = Path(__file__).resolve().parents[3]


def test_database_url() -> str:
    """The URL of the database this test runs on, for a process of its own."""
    settings = connection.settings_dict
    scheme = {"postgresql": "postgres", "mysql": "mysql"}[connection.vendor]
    password = f":{quote(settings['PASSWORD'])}" if settings.get("PASSWORD") else ""
    return (f"{scheme}://{quote(settings['USER'])}{password}@{settings['HOST'] or '127.0.0.1'}"
            f":{settings['PORT'] or {'postgres': 5432, 'mysql': 3306}[scheme]}/"
            f"{settings['NAME']}")


class DialerProcess:
    """`manage.py run_dialer` against the test database; its output goes to a log file."""

    def __init__(self, workdir: Path, **env: str) -> None:
        self.log = workdir / f"run_dialer-{time.monotonic_ns()}.log"
        self.env = dict(os.environ, DATABASE_URL=test_database_url(), DEBUG="false",
                        SECRET_KEY="integration", **env)
        self.env.pop("CI", None)  # CI=true would only change what a missing database does
        self.process = None

    def start(self) -> DialerProcess:
        handle = self.log.open("ab")
        self.process = subprocess.Popen([sys.executable, "manage.py", "run_dialer"], cwd=ROOT,
                                        env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        return self

    def kill9(self) -> None:
        stop_process(self.process, signal.SIGKILL, timeout=10, group=True)

    def stop(self) -> None:
        if self.process:
            stop_process(self.process, signal.SIGTERM, timeout=15, group=True)

    def connected(self, since: int = 0) -> bool:
        """Has its ARI event stream connected (after byte `since` of its log)? Only then does
        its Stasis application exist: Asterisk keeps listing an application whose stream is
        gone, and refuses calls into it ("Stasis app ... not active")."""
        return "ARI events connected" in self.output()[since:]

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class AriObserver:
    """Every ARI event of every channel and bridge (`subscribeAll`), with Asterisk's own
    timestamps, under an application name of its own so the dialer's is untouched."""

    def __init__(self, pbx) -> None:
        self.url = (f"ws://127.0.0.1:{pbx.ari_port}/ari/events?app=observer&subscribeAll=true"
                    f"&api_key={pbx.server.ari_username}:{pbx.server.ari_password}")
        self.events: list[dict] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="ari-observer")
        self._thread.start()
        assert self._ready.wait(10), "the ARI observer could not connect"

    def _run(self) -> None:
        with connect(self.url, open_timeout=5) as socket:
            self._ready.set()
            while not self._stop.is_set():
                try:
                    message = socket.recv(timeout=0.2)
                except TimeoutError:
                    continue
                except Exception:
                    return
                self.events.append(json.loads(message))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)

    @staticmethod
    def _at(event: dict) -> datetime.datetime:
        return datetime.datetime.fromisoformat(event["timestamp"].replace("+0000", "+00:00"))

    def answered_at(self, channel_ids: set[str]) -> dict[str, datetime.datetime]:
        """When each channel answered (its state change to Up), by Asterisk's clock."""
        found: dict[str, datetime.datetime] = {}
        for event in list(self.events):
            channel = (event.get("channel") or {}).get("id")
            if (channel in channel_ids and channel not in found
                    and event["type"] == "ChannelStateChange"
                    and event["channel"]["state"] == "Up"):
                found[channel] = self._at(event)
        return found

    def answer_to_bridge_ms(self, channel_ids: set[str]) -> dict[str, float]:
        """For each customer channel: ms from its answer (state Up) to its entering an
        agent's bridge, both as Asterisk stamped them."""
        answered, bridged = self.answered_at(channel_ids), {}
        for event in list(self.events):
            channel = (event.get("channel") or {}).get("id")
            if (channel in channel_ids and event["type"] == "ChannelEnteredBridge"
                    and str(event["bridge"]["id"]).startswith("agent-")):
                bridged.setdefault(channel, self._at(event))
        return {channel: (bridged[channel] - answered[channel]).total_seconds() * 1000
                for channel in bridged if channel in answered}


def always_open_rules() -> CallingRules:
    """A calling window open whenever the suite runs (00:00-23:59 every day)."""
    return CallingRules.objects.create(name="Always (tests)", weekdays="1234567",
                                       start_time=datetime.time(0, 0),
                                       end_time=datetime.time(23, 59, 59))


# A ring-out call holds an agent's slot until Asterisk gives up on it: at the 15 s the form
# requires (the TSR minimum, MIN_RING_TIMEOUT) the ring-outs alone were half the dialer tests'
# time. Set on the row directly (no form, no validation): the dialer passes it to Asterisk as
# the originate timeout whatever its value, and a ring-out still ends as no answer.
RING_TIMEOUT = 3


def dialer_campaign(carrier, agents, numbers: list[str], **fields) -> Campaign:
    values = {"name": "Dialer test", "status": Campaign.Status.RUNNING,
              "dial_mode": Campaign.DialMode.PROGRESSIVE, "carrier": carrier,
              "calling_rules": always_open_rules(), "ring_timeout": RING_TIMEOUT,
              "max_attempts": 1, "default_timezone": "UTC", **fields}
    campaign = Campaign.objects.create(**values)
    campaign.agents.set(agents)
    lead_list = LeadList.objects.create(campaign=campaign, name="Twenty")
    Lead.objects.bulk_create([Lead(campaign=campaign, lead_list=lead_list, phone_number=number,
                                   timezone="UTC", first_name=f"Lead {index}")
                              for index, number in enumerate(numbers)])
    return campaign


def carrier_invites(carrier_uas) -> dict[str, int]:
    """How many INVITEs the carrier UAS received per dialled number (its log's first line of
    each call is "INVITE sip:<number>@...")."""
    counts: dict[str, int] = {}
    for line in carrier_uas.logs():
        if line.startswith("INVITE sip:"):
            number = line.removeprefix("INVITE sip:").split("@")[0]
            counts[number] = counts.get(number, 0) + 1
    return counts


def preview_floor(pbx, django_user_model, numbers: list[str], *, username: str = "pia",
                  extension: str = "7301"):
    """One agent with a registered, answering phone; the mixed carrier; a running preview
    campaign with `numbers` as its leads (in that order); run_dialer running. Returns
    (client, phone, campaign, carrier_uas, dialer); the caller stops the dialer."""
    from telephony.tests.integration.harness import CARRIER_ADDRESS
    from telephony.tests.integration.scenes import agent_with_phone, carrier_on, wait_for

    client, phone = agent_with_phone(pbx, django_user_model, username=username,
                                     extension=extension)
    pbx.phone(extension, phone.secret)
    carrier_uas = pbx.sipp_uas("carrier_mixed", address=CARRIER_ADDRESS)
    carrier = carrier_on(pbx, carrier_uas)
    campaign = dialer_campaign(carrier, [phone.user], numbers, name="Preview test",
                               dial_mode=Campaign.DialMode.PREVIEW)
    dialer = DialerProcess(pbx.root).start()
    try:
        wait_for(dialer.connected, timeout=15, what="run_dialer's ARI event stream")
    except BaseException:
        dialer.stop()
        raise
    return client, phone, campaign, carrier_uas, dialer
