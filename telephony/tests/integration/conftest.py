"""The integration suite's fixtures: one real Asterisk 22 per test run, reading the test database.

Fixtures (also for other suites that need a real Asterisk, e.g. ARI/Stasis tests):

``asterisk`` (session)
    A `Pbx`: a private Asterisk configured from ``setup_asterisk_realtime --create-config``
    (harness.py says exactly what is added), started on free loopback ports with ODBCSYSINI
    pointing at the Django **test** database, ready after ``core waitfullybooted``, stopped by
    its PID at the end. Exposes ``ami_host/ami_port/ami_username/ami_secret``,
    ``ari_url/ari_username/ari_password``, ``stasis_app``, ``sip_port``, ``cli(command)``,
    ``wait_for_cli(command, predicate)``, ``register(extension, secret)`` (a sipp phone
    REGISTER with digest auth), ``phone(extension, secret)`` (registered and answering),
    ``dial(extension, secret, number)`` (a softphone dialling by itself),
    ``carrier_call(carrier, did, caller)`` (a carrier sending a call in from its address),
    ``sipp_uas(scenario, address=...)`` (a sipp answering calls:
    ``phone_answer``, ``phone_ring_then_answer``, ``carrier_answer``,
    ``carrier_ring_then_answer``, ``carrier_busy``, ``carrier_never_answer``), ``log_tail()``,
    ``restart()`` / ``stop()`` / ``start()``.

``pbx`` (function)
    The same object for one test, with ``pbx.server``: an AsteriskServer row pointing at the
    instance. Requests ``transactional_db``: Asterisk reads over its own database connection,
    so what a test writes must be committed (the default rolled-back transaction is invisible
    to it). This suite's own ``transactional_db`` empties the tables after the test by DELETE,
    not by Django's flush (database.py). Asterisk is started again if a test stopped it;
    sipp processes the test started are stopped after it.

``events_worker`` (function)
    The ``asterisk_events`` listener (``listen()``) following ``pbx.server`` in a thread, as
    production runs it next to gunicorn; Call rows move as Asterisk reports.

When a test fails, the tail of Asterisk's log is added to its report.

Running them: ``.ci/run`` (or ``make test-integration``) installs the runtime from
../shared/asterisk/runtime and runs ``pytest -m integration`` on PostgreSQL and MariaDB. Outside
CI, without the runtime (or on SQLite, which Asterisk cannot read), they skip with one line saying
why; ASTERISK_BIN (and ASTERISK_MODDIR / ASTERISK_DATADIR) point them at an Asterisk 22 installed
some other way, SIPP_BIN at sipp. Under CI=true a missing runtime or sipp is a failure.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from telephony.tests.integration.harness import (
    AMI_SECRET,
    AMI_USER,
    ARI_PASSWORD,
    ARI_USER,
    ASTERISK_BIN,
    LOOPBACK,
    STASIS_APP,
    AsteriskInstance,
    Ports,
    runtime_problem,
)
from telephony.tests.integration.sipp import Sipp

HERE = Path(__file__).resolve().parent
ENABLE_HINT = ("install it with `bash ../shared/asterisk/runtime/install.sh` (or set ASTERISK_BIN "
               "to an Asterisk 22 of your own) and run `make test-integration`")


def _in_suite(item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def _why_not_here() -> str | None:
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return "Asterisk cannot read SQLite: set DATABASE_URL to PostgreSQL or MariaDB"
    return runtime_problem()


def pytest_collection_modifyitems(config, items):
    ours = [item for item in items if _in_suite(item)]
    for item in ours:
        item.add_marker(pytest.mark.integration)
    if not ours or os.environ.get("CI") == "true":
        return  # under CI a missing runtime fails in the fixture, never skips
    problem = _why_not_here()
    if problem:
        config._integration_skipped = (len(ours), problem)
        marker = pytest.mark.skip(reason=f"integration: {problem}")
        for item in ours:
            item.add_marker(marker)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = getattr(config, "_integration_skipped", None)
    if skipped:
        count, problem = skipped
        terminalreporter.write_line(
            f"{count} integration test(s) skipped ({problem}): {ENABLE_HINT}.")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    pbx = item.funcargs.get("asterisk") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(pbx, Pbx):
        report.sections.append(("Asterisk log (tail)", pbx.log_tail(80)))


def server_values(ports: Ports) -> dict:
    return {"name": "integration", "host": LOOPBACK, "ami_host": LOOPBACK, "ami_port": ports.ami,
            "ami_username": AMI_USER, "ami_password": AMI_SECRET, "ari_host": LOOPBACK,
            "ari_port": ports.http, "ari_username": ARI_USER, "ari_password": ARI_PASSWORD,
            "ari_app": STASIS_APP, "odbc_dsn": "asterisk", "sip_bind": LOOPBACK,
            "sip_port": ports.sip}


class Pbx:
    """The running instance as tests (and other suites) use it. See the module docstring."""

    stasis_app = STASIS_APP
    ami_host = LOOPBACK
    ami_username = AMI_USER
    ami_secret = AMI_SECRET
    ari_username = ARI_USER
    ari_password = ARI_PASSWORD

    def __init__(self, instance: AsteriskInstance) -> None:
        self.instance = instance
        self.server = None  # the AsteriskServer row of the current test (pbx fixture)
        self._sipps: list[Sipp] = []

    # --- addresses ---
    @property
    def root(self) -> Path:
        return self.instance.root

    @property
    def ports(self) -> Ports:
        return self.instance.ports

    @property
    def sounds_dir(self) -> Path:
        """Where this Asterisk finds `sound:<name>` (write `<name>.sln`, raw 8 kHz slin)."""
        return self.instance.sounds_dir

    @property
    def ami_port(self) -> int:
        return self.ports.ami

    @property
    def ari_port(self) -> int:
        return self.ports.http

    @property
    def ari_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.http}/ari"

    @property
    def sip_port(self) -> int:
        return self.ports.sip

    # --- Asterisk ---
    def cli(self, command: str, **kwargs) -> str:
        return self.instance.cli(command, **kwargs)

    def wait_for_cli(self, command: str, predicate, **kwargs) -> str:
        return self.instance.wait_for_cli(command, predicate, **kwargs)

    def log_tail(self, lines: int = 60) -> str:
        return self.instance.log_tail(lines)

    def start(self) -> None:
        self.instance.start()

    def stop(self) -> None:
        self.instance.stop()

    def restart(self) -> None:
        self.instance.restart()

    def running(self) -> bool:
        return self.instance.running()

    def server_values(self, **extra) -> dict:
        """Field values of an AsteriskServer pointing at this instance."""
        return {**server_values(self.ports), **extra}

    # --- sipp ---
    def register(self, extension: str, secret: str, *, port: int | None = None) -> Sipp:
        """A phone REGISTERs (digest auth) from 127.0.0.1; returns the finished sipp."""
        sipp = Sipp.register(self.instance, extension=extension, secret=secret, port=port,
                             workdir=self.root / "sipp")
        self._sipps.append(sipp)
        return sipp

    def dial(self, extension: str, secret: str, number: str, *, talk_ms: int = 1000) -> Sipp:
        """The softphone of `extension` dials `number` itself (not through the app)."""
        sipp = Sipp.dial(self.instance, extension=extension, secret=secret, number=number,
                         talk_ms=talk_ms, workdir=self.root / "sipp")
        self._sipps.append(sipp)
        return sipp

    def carrier_call(self, carrier, did: str, caller: str, *, talk_ms: int = 1000) -> Sipp:
        """`carrier` (a Carrier matched by IP) calls `did` from its host and port, the
        customer's number `caller` in From; hangs up after `talk_ms`."""
        sipp = Sipp.carrier_call(self.instance, did=did, caller=caller, port=carrier.port,
                                 address=carrier.host, talk_ms=talk_ms,
                                 workdir=self.root / "sipp")
        self._sipps.append(sipp)
        return sipp

    def sipp_uas(self, scenario: str, *, address: str = LOOPBACK,
                 port: int | None = None, files: dict[str, bytes] | None = None) -> Sipp:
        """Start a sipp that answers calls (see sipp/*.xml) and keeps running until the test
        ends (or .stop()); `files` are written to its working directory first."""
        sipp = Sipp.uas(scenario, workdir=self.root / "sipp", address=address, port=port,
                        files=files)
        self._sipps.append(sipp)
        return sipp

    def phone(self, extension: str, secret: str, *, scenario: str = "phone_answer") -> Sipp:
        """A registered phone that answers calls: REGISTER, then a UAS on the same port
        (`scenario`: phone_answer at once, phone_ring_then_answer after ringing 1 s)."""
        reg = self.register(extension, secret)
        assert reg.returncode == 0, f"{extension} could not register: {reg.received_statuses()}"
        self.wait_for_cli("pjsip show contacts", lambda out: f"{extension}/sip:" in out)
        return self.sipp_uas(scenario, port=reg.port)

    def hangup_all(self) -> None:
        """End every channel a test left (a call it did not hang up), so the next starts clean."""
        if not self.running():
            return
        if "0 active channels" in self.cli("core show channels count"):
            return
        self.cli("channel request hangup all")
        self.wait_for_cli("core show channels count", lambda out: "0 active channels" in out)

    def stop_sipps(self) -> None:
        for sipp in self._sipps:
            sipp.stop()
        self._sipps.clear()


def _generated_config(ports: Ports, out: Path) -> dict[str, str]:
    """What `setup_asterisk_realtime --create-config --server integration` writes, for a server
    row pointing at our ports (created for the command, removed after)."""
    from django.core.management import call_command

    from telephony.models import AsteriskServer

    server = AsteriskServer.objects.create(**server_values(ports))
    try:
        call_command("setup_asterisk_realtime", "--create-config", "--server", server.name,
                     "--output-dir", str(out), stdout=io.StringIO())
    finally:
        server.delete()
    return {path.name: path.read_text() for path in out.iterdir()}


@pytest.fixture(scope="session")
def asterisk(django_db_setup, django_db_blocker):
    from django.conf import settings

    problem = _why_not_here()
    if problem:
        pytest.fail(f"integration: {problem}; {ENABLE_HINT}", pytrace=False)
    root = Path(tempfile.mkdtemp(prefix="autodialer-asterisk-"))
    ports = Ports.pick()
    instance = AsteriskInstance(root=root, ports=ports, binary=ASTERISK_BIN)
    with django_db_blocker.unblock():
        generated = _generated_config(ports, root / "generated")
    instance.write_config(generated,
                          db_password=settings.DATABASES["default"].get("PASSWORD") or "")
    instance.start()
    pbx = Pbx(instance)
    try:
        yield pbx
    finally:
        pbx.stop_sipps()
        instance.stop()
        if os.environ.get("KEEP_ASTERISK_DIR") != "1":
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def transactional_db(django_db_setup, django_db_blocker):
    """pytest-django's `transactional_db` for this suite (the name makes pytest-django create
    the test database for the tests that ask for it, and the browser tests' live server takes
    it too): database access with every write committed, the tables emptied after the test as
    Django's flush does, but by DELETE (database.py says why)."""
    from django.db import connections

    from telephony.tests.integration.database import empty_tables

    with django_db_blocker.unblock():
        try:
            yield
        finally:
            empty_tables()
            connections.close_all()


@pytest.fixture
def db(transactional_db):
    """Every test here commits (Asterisk must see its rows), so pytest-django's `db`, which
    fixtures such as django_user_model and admin_client ask for, is this suite's
    `transactional_db` (pytest-django's own would add its flush on top of ours)."""


@pytest.fixture
def pbx(asterisk, transactional_db):
    from telephony.models import AsteriskServer

    if not asterisk.running():
        asterisk.start()
    asterisk.server = AsteriskServer.objects.create(**asterisk.server_values())
    try:
        yield asterisk
    finally:
        asterisk.hangup_all()
        asterisk.stop_sipps()
        asterisk.server = None


@pytest.fixture
def events_worker(pbx):
    """The asterisk_events listener for pbx.server, in a thread of its own."""
    from asgiref.sync import sync_to_async
    from django.db import connections

    from telephony.management.commands.asterisk_events import listen

    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready = threading.Event()

    async def main() -> None:
        ready.set()
        try:
            await listen(stop, [pbx.server])
        finally:
            # The ORM ran in asgiref's worker thread: close its connections there, or the
            # test database cannot be flushed or dropped.
            await sync_to_async(connections.close_all, thread_sensitive=True)()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),),
                              name="asterisk-events", daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
        loop.close()
