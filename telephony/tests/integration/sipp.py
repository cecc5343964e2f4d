"""Run the suite's own sipp scenarios (sipp/*.xml) by PID and read what they logged.

    reg = Sipp.register(pbx, extension="7101", secret=phone.secret)   # runs to the end
    assert reg.returncode == 0
    uas = Sipp.uas("phone_answer", port=reg.port)                     # runs until .stop()
    ...
    uas.stop(); uas.logs()        # the scenario's <log> lines, e.g. "INVITE sip:+1555...@..."

Every process gets `-i/-ci/-mi` on a loopback address and ports of its own (`-p`, `-cp`, `-mp`,
which also binds `-mp`+2): the sipp defaults collide as soon as two run (runtime README).
Exit codes: 0 the scenario passed, 1 it failed (e.g. 401 twice), 254 a socket could not bind.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from telephony.tests.integration.harness import (
    CARRIER_ADDRESS,
    LOOPBACK,
    SIPP_BIN,
    free_udp_port,
    stop_process,
)

SCENARIOS = Path(__file__).resolve().parent / "sipp"


class Sipp:
    def __init__(self, scenario: str, *, workdir: Path, remote: str | None = None,
                 address: str = LOOPBACK, port: int | None = None,
                 args: tuple[str, ...] = (), files: dict[str, bytes] | None = None) -> None:
        self.scenario = scenario
        self.address = address
        self.port = port or free_udp_port(address)
        self.control_port = free_udp_port(address)
        self.media_port = free_udp_port(address, also=(2,))
        self.workdir = workdir / f"{scenario}-{address}-{self.port}-{time.monotonic_ns()}"
        self.workdir.mkdir(parents=True)
        # Files the scenario reads from its working directory (rtp_stream audio): sipp
        # loads them when it parses the scenario, so they are written first.
        for name, data in (files or {}).items():
            (self.workdir / name).write_bytes(data)
        self.log_file = self.workdir / "log.txt"
        self.message_file = self.workdir / "messages.txt"
        self.error_file = self.workdir / "errors.txt"
        command = [SIPP_BIN]
        if remote:
            command.append(remote)
        command += ["-sf", str(SCENARIOS / f"{scenario}.xml"),
                    "-i", address, "-ci", address, "-mi", address,
                    "-p", str(self.port), "-cp", str(self.control_port),
                    "-mp", str(self.media_port),
                    "-trace_logs", "-log_file", str(self.log_file),
                    "-trace_msg", "-message_file", str(self.message_file),
                    "-trace_err", "-error_file", str(self.error_file),
                    "-nostdin", *args]
        self.command = command
        self.process = subprocess.Popen(command, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True)

    # --- the scenarios ---
    @classmethod
    def register(cls, pbx, *, extension: str, secret: str, port: int | None = None,
                 workdir: Path | None = None, timeout: float = 10.0) -> Sipp:
        """REGISTER `extension` with digest auth and wait for the outcome."""
        sipp = cls("phone_register", workdir=workdir or pbx.root / "sipp",
                   remote=f"{LOOPBACK}:{pbx.ports.sip}", port=port,
                   args=("-m", "1", "-s", extension, "-au", extension, "-ap", secret,
                         "-recv_timeout", "5000"))
        sipp.wait(timeout)
        return sipp

    @classmethod
    def dial(cls, pbx, *, extension: str, secret: str, number: str, talk_ms: int = 1000,
             workdir: Path | None = None) -> Sipp:
        """The softphone of `extension` dials `number` itself (digest auth), talks for
        `talk_ms`, hangs up. Returns at once; .wait() for the end."""
        return cls("phone_call", workdir=workdir or pbx.root / "sipp",
                   remote=f"{LOOPBACK}:{pbx.ports.sip}",
                   args=("-m", "1", "-s", number, "-key", "caller", extension,
                         "-au", extension, "-ap", secret, "-d", str(talk_ms),
                         "-recv_timeout", "10000"))

    @classmethod
    def carrier_call(cls, pbx, *, did: str, caller: str, port: int, talk_ms: int = 1000,
                     address: str = CARRIER_ADDRESS, workdir: Path | None = None) -> Sipp:
        """The carrier at `address`:`port` sends a call for `did` from `caller` into Asterisk
        (no auth: the carrier is matched by address), talks for `talk_ms`, hangs up. Returns
        at once; .wait() for the end."""
        return cls("carrier_calls_in", workdir=workdir or pbx.root / "sipp",
                   remote=f"{LOOPBACK}:{pbx.ports.sip}", address=address, port=port,
                   args=("-m", "1", "-s", did, "-key", "caller", caller,
                         "-d", str(talk_ms), "-recv_timeout", "10000"))

    @classmethod
    def uas(cls, scenario: str, *, workdir: Path, address: str = LOOPBACK,
            port: int | None = None, files: dict[str, bytes] | None = None) -> Sipp:
        """A scenario answering calls (a phone, a carrier) until stopped."""
        sipp = cls(scenario, workdir=workdir, address=address, port=port, files=files)
        sipp.wait_listening()
        return sipp

    # --- process ---
    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"sipp {self.scenario} did not finish within {timeout} s:\n"
                                 + self.messages()[-3000:]) from None

    def wait_listening(self, timeout: float = 5.0) -> None:
        """Until sipp bound its SIP port (or died: 254 means a socket could not bind)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"sipp {self.scenario} exited with {self.returncode}: "
                                     + self._stderr())
            if _udp_bound(self.address, self.port):
                return
            time.sleep(0.05)
        raise AssertionError(f"sipp {self.scenario} never bound {self.address}:{self.port}")

    def stop(self, timeout: float = 5.0) -> int:
        """SIGUSR1 (sipp's graceful end) to our own PID; SIGKILL if it lingers."""
        return stop_process(self.process, signal.SIGUSR1, timeout=timeout)

    def _stderr(self) -> str:
        if self.process.poll() is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read().decode(errors="replace")[-2000:]

    # --- what it saw ---
    def logs(self) -> list[str]:
        """The lines the scenario's <log message=...> actions wrote."""
        if not self.log_file.exists():
            return []
        return [line.strip() for line in self.log_file.read_text(errors="replace").splitlines()
                if line.strip()]

    def messages(self) -> str:
        """Every SIP message sent and received (-trace_msg)."""
        return self.message_file.read_text(errors="replace") if self.message_file.exists() \
            else ""

    def received_statuses(self) -> list[int]:
        """Status codes of the responses sipp received, in order."""
        statuses = []
        block_received = False
        for line in self.messages().splitlines():
            if "message received" in line:
                block_received = True
                continue
            if "message sent" in line:
                block_received = False
                continue
            if block_received and line.startswith("SIP/2.0 "):
                statuses.append(int(line.split()[1]))
                block_received = False
        return statuses

    def wait_for_log(self, text: str, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.logs()
            if any(text in line for line in lines):
                return lines
            time.sleep(0.1)
        raise AssertionError(f"sipp {self.scenario} never logged {text!r}; it logged: "
                             f"{self.logs()}")

    def __enter__(self) -> Sipp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _udp_bound(address: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((address, port))
        except OSError:
            return True
    return False
