"""A private, real Asterisk 22 for the integration suite, configured from our own generated files.

    pbx = AsteriskInstance.create(root=tmp_dir, database=settings.DATABASES["default"])
    pbx.start()            # returns once `core waitfullybooted` answered
    pbx.cli("pjsip show endpoint 7101")
    pbx.stop()             # SIGTERM to its PID, SIGKILL if it hangs

What the instance is made of (../shared/asterisk/runtime/README.md, FACTS.md):
- the files `setup_asterisk_realtime --create-config --server <name>` writes, unedited except what
  docs/asterisk-realtime.md tells an operator to do: fill in the database password where they
  say CHANGE-ME, put `#include pjsip_realtime.conf` in pjsip.conf, merge modules.conf and
  extensions.conf into Asterisk's own (here: they are the whole file);
- the test-only files the runtime README names: asterisk.conf giving every directory (without the
  sample's `(!)`; astdatadir the installation's, linked, with a sounds directory of the
  instance's own: `sounds_dir`), manager.conf / http.conf / ari.conf with a user of ours on
  free loopback ports, rtp.conf with a port range of our own, logger.conf writing
  `<root>/log/messages`;
- ODBC without /etc: odbc.ini and odbcinst.ini in `<root>/odbc`, passed as ODBCSYSINI.

Nothing here imports Django: the session fixture (conftest.py) gathers the Django side.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

ASTERISK_BIN = os.environ.get("ASTERISK_BIN", "/opt/asterisk/sbin/asterisk")
SIPP_BIN = os.environ.get("SIPP_BIN", shutil.which("sipp") or "/usr/bin/sipp")
LOOPBACK = "127.0.0.1"
# A second loopback address for "the carrier": Asterisk identifies requests by source address
# before user name, so a carrier on the phones' address would capture their REGISTERs.
CARRIER_ADDRESS = "127.0.0.2"

AMI_USER = "autodialer"
AMI_SECRET = "integration-ami-secret"
ARI_USER = "autodialer"
ARI_PASSWORD = "integration-ari-secret"
STASIS_APP = "autodialer"

# Modules this suite never needs; each skipped one is start-up time and noise in the log.
NOLOAD = ("res_stun_monitor.so", "cdr_csv.so", "cdr_custom.so", "cdr_sqlite3_custom.so",
          "cel_sqlite3_custom.so", "cdr_manager.so", "app_queue.so", "res_pjsip_phoneprov.so",
          "res_phoneprov.so", "chan_iax2.so", "chan_unistim.so", "chan_mgcp.so",
          "chan_skinny.so", "res_hep.so", "res_hep_pjsip.so", "res_hep_rtcp.so",
          "res_config_ldap.so", "res_config_pgsql.so", "res_calendar.so", "cdr_radius.so",
          "cel_radius.so", "res_snmp.so", "res_xmpp.so", "res_prometheus.so",
          # Modules that decline to load without a config file of their own.
          "res_pjsip_notify.so", "res_parking.so", "pbx_dundi.so", "pbx_ael.so", "func_odbc.so",
          "cel_pgsql.so", "cel_manager.so", "cel_custom.so", "cdr_pgsql.so", "cdr_odbc.so",
          "app_followme.so", "app_festival.so", "app_confbridge.so", "app_page.so",
          "app_alarmreceiver.so", "app_agent_pool.so", "res_pjsip_phoneprov_provider.so",
          "res_adsi.so", "app_getcpeid.so", "app_adsiprog.so", "res_config_sqlite3.so",
          "cel_odbc.so", "res_statsd.so", "chan_websocket.so")


def runtime_problem() -> str | None:
    """Why the runtime cannot be used here, or None."""
    if not os.access(ASTERISK_BIN, os.X_OK):
        return f"no Asterisk at {ASTERISK_BIN}"
    if not os.access(SIPP_BIN, os.X_OK):
        return f"no sipp at {SIPP_BIN}"
    return None


def asterisk_dirs(binary: str = ASTERISK_BIN) -> dict[str, str]:
    """The installation's own directories: next to the binary (/opt/asterisk/sbin/asterisk),
    or where ASTERISK_MODDIR / ASTERISK_DATADIR say (an Asterisk installed some other way)."""
    prefix = Path(binary).resolve().parent.parent
    return {
        "astmoddir": os.environ.get("ASTERISK_MODDIR", str(prefix / "lib/asterisk/modules")),
        "astdatadir": os.environ.get("ASTERISK_DATADIR", str(prefix / "var/lib/asterisk")),
        "astsbindir": str(Path(binary).resolve().parent),
    }


# --- free ports ---------------------------------------------------------------------------------

def _free(kind: int, host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def free_tcp_port(host: str = LOOPBACK) -> int:
    return _free(socket.SOCK_STREAM, host)


def _udp_free(port: int, host: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_udp_port(host: str = LOOPBACK, *, also: tuple[int, ...] = ()) -> int:
    """A free UDP port P on `host` with P+n free too for each n in `also` (sipp's -mp P also
    binds P+2)."""
    for _ in range(200):
        port = random.randint(20000, 59000)
        if all(_udp_free(port + offset, host) for offset in (0, *also)):
            return port
    raise RuntimeError("no free UDP port found")


@dataclass
class Ports:
    sip: int
    ami: int
    http: int
    rtp_start: int
    rtp_end: int

    @classmethod
    def pick(cls) -> Ports:
        # RTP: a range of our own, so several instances (other test runs) never share one.
        start = random.randrange(30000, 39000, 200)
        return cls(sip=free_udp_port(), ami=free_tcp_port(), http=free_tcp_port(),
                   rtp_start=start, rtp_end=start + 199)


# --- the instance ---------------------------------------------------------------------------------


def stop_process(process: subprocess.Popen, signum: int, *, timeout: float,
                 group: bool = False) -> int | None:
    """Stop a process we started, by its PID (never by name: other instances run too): send
    `signum` (its graceful end), SIGKILL if it is still there after `timeout`. `group`: the
    whole process group (the process was started with start_new_session)."""
    if process.poll() is None:
        kill = (lambda sig: os.killpg(process.pid, sig)) if group else (
            lambda sig: os.kill(process.pid, sig))
        with contextlib.suppress(ProcessLookupError):
            kill(signum)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                kill(signal.SIGKILL)
            process.wait(5)
    return process.returncode


@dataclass
class AsteriskInstance:
    root: Path
    ports: Ports
    binary: str = ASTERISK_BIN
    process: subprocess.Popen | None = None
    boot_seconds: float = 0.0
    _log_offset: int = field(default=0, repr=False)

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def conf(self) -> Path:
        return self.etc / "asterisk.conf"

    @property
    def odbc_dir(self) -> Path:
        return self.root / "odbc"

    @property
    def log_file(self) -> Path:
        return self.root / "log" / "messages"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    # --- configuration ---
    def write_config(self, generated: dict[str, str], *, db_password: str) -> None:
        """Write the instance's files: `generated` ({name: text} as setup_asterisk_realtime
        --create-config wrote them) plus the test-only files."""
        for sub in ("etc", "odbc", "log", "lib", "db", "keys", "agi", "spool", "run"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

        def fill(text: str) -> str:
            # The one edit docs/asterisk-realtime.md asks of an operator.
            return text.replace("CHANGE-ME", db_password)

        for name in ("extconfig.conf", "sorcery.conf", "pjsip_realtime.conf",
                     "extensions.conf", "amd.conf"):
            (self.etc / name).write_text(generated[name])
        (self.etc / "res_odbc.conf").write_text(fill(generated["res_odbc.conf"]))
        (self.odbc_dir / "odbc.ini").write_text(fill(generated["odbc.ini"]))
        (self.odbc_dir / "odbcinst.ini").write_text(generated["odbcinst.ini"])
        # "echo '#include pjsip_realtime.conf' >> /etc/asterisk/pjsip.conf" on an empty pjsip.conf.
        (self.etc / "pjsip.conf").write_text("#include pjsip_realtime.conf\n")
        # The generated snippet's [modules] preload lines, merged into a modules.conf.
        modules = generated["modules.conf"].split("\n[modules]\n", 1)[1]
        (self.etc / "modules.conf").write_text(
            "[modules]\nautoload = yes\n" + "".join(f"noload = {m}\n" for m in NOLOAD)
            + modules.strip() + "\n")
        self._write_test_only_files()

    @property
    def sounds_dir(self) -> Path:
        """This instance's own sounds directory (the runtime ships none): a test writes the
        prompts it plays here, e.g. `autodialer/machine-message.sln` for
        `sound:autodialer/machine-message`."""
        return self.root / "data" / "sounds"

    def _data_dir(self, shared: str) -> Path:
        """astdatadir for this instance: the installation's (documentation, rest-api, ...)
        linked entry by entry, with a sounds directory of its own, so tests never write into
        /opt/asterisk, which other instances share."""
        data = self.root / "data"
        self.sounds_dir.mkdir(parents=True, exist_ok=True)
        for entry in Path(shared).iterdir():
            link = data / entry.name
            if entry.name != "sounds" and not link.exists():
                link.symlink_to(entry)
        return data

    def _write_test_only_files(self) -> None:
        dirs = asterisk_dirs(self.binary)
        dirs["astdatadir"] = str(self._data_dir(dirs["astdatadir"]))
        lines = ["[directories]", f"astetcdir => {self.etc}"]
        lines += [f"{key} => {value}" for key, value in dirs.items()]
        lines += [f"astvarlibdir => {self.root / 'lib'}", f"astdbdir => {self.root / 'db'}",
                  f"astkeydir => {self.root / 'keys'}", f"astagidir => {self.root / 'agi'}",
                  f"astspooldir => {self.root / 'spool'}", f"astrundir => {self.root / 'run'}",
                  f"astlogdir => {self.root / 'log'}",
                  "", "[options]", "verbose = 3", "debug = 0", "maxload = 0",
                  "documentation_language = en_US", "hideconnect = yes"]
        self.conf.write_text("\n".join(lines) + "\n")
        p = self.ports
        files = {
            "manager.conf": (
                f"[general]\nenabled = yes\nport = {p.ami}\nbindaddr = {LOOPBACK}\n\n"
                # The permissions docs/call-control.md gives the app's AMI user.
                f"[{AMI_USER}]\nsecret = {AMI_SECRET}\n"
                "read = system,call,dialplan,agent,user\n"
                "write = system,call,originate,command,reporting\n"
                "permit = 127.0.0.0/255.0.0.0\n"),
            "http.conf": (f"[general]\nenabled = yes\nbindaddr = {LOOPBACK}\n"
                          f"bindport = {p.http}\n"),
            "ari.conf": (f"[general]\nenabled = yes\n\n[{ARI_USER}]\ntype = user\n"
                         f"read_only = no\npassword = {ARI_PASSWORD}\n"),
            "rtp.conf": f"[general]\nrtpstart = {p.rtp_start}\nrtpend = {p.rtp_end}\n",
            "logger.conf": ("[general]\ndateformat = %F %T.%3q\n\n[logfiles]\n"
                            "messages => notice,warning,error,verbose\n"),
            "cdr.conf": "[general]\nenable = no\n",
            "stasis.conf": "",
        }
        for name, text in files.items():
            (self.etc / name).write_text(text)

    # --- running ---
    def env(self) -> dict[str, str]:
        return {**os.environ, "ODBCSYSINI": str(self.odbc_dir)}

    def start(self, *, timeout: float = 30.0) -> None:
        started = time.monotonic()
        self._log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        console = open(self.root / "log" / "console.out", "ab")  # noqa: SIM115 - kept with it
        self.process = subprocess.Popen(
            [self.binary, "-C", str(self.conf), "-f", "-n"], env=self.env(),
            stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
            start_new_session=True)
        console.close()
        control = self.root / "run" / "asterisk.ctl"
        while not control.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"Asterisk exited at start ({self.process.returncode}):\n"
                                   + self.log_tail())
            if time.monotonic() - started > timeout:
                self.stop()
                raise RuntimeError("Asterisk did not open its control socket:\n"
                                   + self.log_tail())
            time.sleep(0.05)
        out = self.cli("core waitfullybooted", timeout=timeout)
        if "fully booted" not in out.lower():
            raise RuntimeError(f"core waitfullybooted said {out!r}:\n" + self.log_tail())
        self.boot_seconds = time.monotonic() - started

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, *, timeout: float = 10.0) -> None:
        """SIGTERM our own Asterisk (by the PID we started), SIGKILL if it does not go."""
        if self.process is None:
            return
        stop_process(self.process, signal.SIGTERM, timeout=timeout)
        self.process = None
        with contextlib.suppress(FileNotFoundError):
            (self.root / "run" / "asterisk.ctl").unlink()

    def restart(self) -> None:
        self.stop()
        self.start()

    def cli(self, command: str, *, timeout: float = 10.0) -> str:
        """Run one CLI command (`asterisk -rx`) and return what it printed. `-rx` exits 0 even
        for an unknown command, so that is checked here."""
        done = subprocess.run([self.binary, "-C", str(self.conf), "-rx", command],
                              env=self.env(), capture_output=True, text=True, timeout=timeout,
                              check=False)
        out = done.stdout + done.stderr
        if out.startswith("No such command"):
            raise RuntimeError(f"Asterisk has no CLI command {command!r}")
        return out

    def wait_for_cli(self, command: str, predicate, *, timeout: float = 5.0,
                     interval: float = 0.2) -> str:
        """Run `command` until predicate(output) holds; return the last output (or raise)."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.cli(command)
            if predicate(out):
                return out
            if time.monotonic() > deadline:
                raise AssertionError(f"{command!r} never matched within {timeout} s:\n{out}")
            time.sleep(interval)

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_file.exists():
            return "(no Asterisk log yet)"
        text = self.log_file.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def log_since_start(self) -> str:
        if not self.log_file.exists():
            return ""
        with self.log_file.open("rb") as handle:
            handle.seek(self._log_offset)
            return handle.read().decode(errors="replace")
