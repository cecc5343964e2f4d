"""Load test of the call-control API: 50 agents placing and hanging up calls through gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ad_bench .venv/bin/python \
        benchmarks/originate_load.py [--agents 50] [--calls 20] [--workers 4] [--think 1.0]

What runs:
* a FakeAmiServer (the test suite's AMI protocol fake, real TCP and framing) in its own process;
* the database of DATABASE_URL (created if missing on PostgreSQL/MariaDB, then migrated), with
  one Asterisk server pointing at the fake and N agents, each with an active phone;
* gunicorn with several sync workers on a free port, configured like production (DEBUG off);
* N threads, one per agent, each with its own requests session that logs in through the login
  form, then places `--calls` calls: originate, "talk" for a random think time, hang up, pause.

Every originate and hangup opens its own AMI connection (login, action, logoff), as in
production. It prints p50/p95/p99/max latency per endpoint and the number of errors (anything
but 201 on originate and 200 on hangup). Target: originate p99 <= 50 ms, 0 errors.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-Pa55word-123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_fake_ami(port_queue: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    from telephony.tests.fakes.ami import FakeAmiServer

    with FakeAmiServer() as fake:
        # No call events: nobody listens, and the benchmark measures the API, not the fake.
        fake.default_outcome = "silent"
        port_queue.put(fake.port)
        stop.wait()


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme.startswith("postgres"):
        import psycopg2

        conn = psycopg2.connect(host=parts.hostname, port=parts.port or 5432,
                                user=parts.username, password=parts.password or "",
                                dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
        conn.close()
    elif parts.scheme in ("mysql", "mariadb"):
        import MySQLdb

        conn = MySQLdb.connect(host=parts.hostname, port=parts.port or 3306,
                               user=parts.username, passwd=parts.password or "")
        conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
        conn.close()


def prepare(agents: int, ami_port: int) -> list[str]:
    """Migrate, then (re)create the benchmark's server, agents and phones."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from telephony.models import AsteriskServer, Call, IdempotentRequest, Phone

    user_model = get_user_model()
    names = [f"bench{index:03d}" for index in range(agents)]
    Call.objects.filter(user__username__startswith="bench").delete()
    IdempotentRequest.objects.filter(user__username__startswith="bench").delete()
    for phone in Phone.objects.filter(extension__startswith="79"):
        phone.delete()
    user_model.objects.filter(username__startswith="bench").delete()
    AsteriskServer.objects.filter(name="bench").delete()

    server = AsteriskServer.objects.create(
        name="bench", host="127.0.0.1", ami_host="127.0.0.1", ami_port=ami_port,
        ami_username="admin", ami_password="amipass", ari_host="127.0.0.1",
        ari_username="asterisk", ari_password="ari-pass")
    group = Group.objects.get(name="Agent")
    for index, name in enumerate(names):
        user = user_model.objects.create_user(username=name, password=PASSWORD)
        user.groups.add(group)
        Phone.objects.create(extension=f"79{index:03d}", name=name, server=server, user=user)
    return names


class Agent(threading.Thread):
    def __init__(self, base: str, username: str, calls: int, think: float,
                 start_gate: threading.Barrier) -> None:
        super().__init__(daemon=True)
        self.base, self.username, self.calls, self.think = base, username, calls, think
        self.gate = start_gate
        self.originate_ms: list[float] = []
        self.hangup_ms: list[float] = []
        self.errors: list[str] = []

    def login(self, session) -> None:
        token = secrets.token_hex(16)
        session.cookies.set("csrftoken", token, domain="127.0.0.1")
        response = session.post(f"{self.base}/users/login/", allow_redirects=False,
                                data={"username": self.username, "password": PASSWORD,
                                      "csrfmiddlewaretoken": token})
        if response.status_code != 302 or "sessionid" not in session.cookies:
            raise RuntimeError(f"login of {self.username} failed: {response.status_code}")
        session.headers["X-CSRFToken"] = session.cookies["csrftoken"]

    def run(self) -> None:
        import requests

        rng = random.Random(self.username)
        with requests.Session() as session:
            try:
                self.login(session)
            except Exception as exc:  # noqa: BLE001 - reported as an error, the run goes on
                self.errors.append(str(exc))
                self.gate.abort()
                return
            self.gate.wait()
            for _ in range(self.calls):
                time.sleep(rng.uniform(0, self.think))
                ok = self._timed(session, "originate", {"phone_number": "+1 555 123 4567"},
                                 201, self.originate_ms)
                time.sleep(rng.uniform(0, self.think))  # "talking"
                if ok:
                    self._timed(session, "hangup", {}, 200, self.hangup_ms)

    def _timed(self, session, action: str, body: dict, expected: int,
               into: list[float]) -> bool:
        started = time.perf_counter()
        try:
            response = session.post(f"{self.base}/telephony/calls/{action}/", json=body,
                                    timeout=10)
        except Exception as exc:  # noqa: BLE001
            self.errors.append(f"{action}: {exc}")
            return False
        into.append((time.perf_counter() - started) * 1000)
        if response.status_code != expected:
            self.errors.append(f"{action}: {response.status_code} {response.text[:200]}")
            return False
        return True


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def report(label: str, values: list[float]) -> None:
    if not values:
        print(f"{label:10s} no samples")
        return
    print(f"{label:10s} n={len(values):5d}  p50={statistics.median(values):6.1f} ms  "
          f"p95={percentile(values, .95):6.1f} ms  p99={percentile(values, .99):6.1f} ms  "
          f"max={max(values):6.1f} ms")


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("gunicorn did not start listening")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--calls", type=int, default=20, help="calls per agent")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--think", type=float, default=1.0,
                        help="max random seconds between an agent's actions")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL")
    if not url or url.startswith("sqlite"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL or MariaDB database the benchmark "
                         "may fill (e.g. postgres://postgres@127.0.0.1:5432/ad_bench).")
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false",
           "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40),
           "ALLOWED_HOSTS": "127.0.0.1", "SESSION_COOKIE_SECURE": "false",
           "CSRF_COOKIE_SECURE": "false", "LOG_LEVEL": "WARNING",
           "PYTHONWARNINGS": "ignore::UserWarning",  # whitenoise: no collectstatic here
           "DJANGO_SETTINGS_MODULE": "autodialer.settings"}
    os.environ.update(env)
    ensure_database(url)

    port_queue: multiprocessing.Queue = multiprocessing.Queue()
    stop_fake = multiprocessing.Event()
    fake = multiprocessing.Process(target=run_fake_ami, args=(port_queue, stop_fake),
                                   daemon=True)
    fake.start()
    ami_port = port_queue.get(timeout=10)
    names = prepare(args.agents, ami_port)

    port = free_port()
    gunicorn = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "autodialer.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True)
    try:
        wait_for_port(port, gunicorn)
        gate = threading.Barrier(len(names))
        agents = [Agent(f"http://127.0.0.1:{port}", name, args.calls, args.think, gate)
                  for name in names]
        started = time.monotonic()
        for agent in agents:
            agent.start()
        for agent in agents:
            agent.join()
        elapsed = time.monotonic() - started
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(timeout=30)
        stop_fake.set()
        fake.join(timeout=10)

    originate = [ms for agent in agents for ms in agent.originate_ms]
    hangup = [ms for agent in agents for ms in agent.hangup_ms]
    errors = [error for agent in agents for error in agent.errors]
    print(f"{len(names)} agents x {args.calls} calls, {args.workers} gunicorn workers, "
          f"think time up to {args.think:g} s, database {urlsplit(url).scheme}, "
          f"{elapsed:.1f} s, {(len(originate) + len(hangup)) / elapsed:.0f} requests/s")
    report("originate", originate)
    report("hangup", hangup)
    print(f"errors     {len(errors)}")
    for error in errors[:10]:
        print("  ", error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
