"""AsteriskService: is this server reachable, and is it set up the way autodialer needs?

`test_connection()` is the server page's **Test Connection** button: ARI (`/ari/asterisk/info`)
and AMI (login + Ping), side by side, stored on the server. `diagnose()` is the **Diagnose**
button: over one AMI login it runs what the integration guide's troubleshooting asks a human to
type at the Asterisk CLI, and says for each check what to fix.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from telephony.asterisk.ami import AmiClient, AmiConfig, AmiError
from telephony.asterisk.ari import AriClient, AriConfig, AriError
from telephony.models import AsteriskServer, Phone

# The modules Realtime PJSIP cannot work without, and what each one is for.
REQUIRED_MODULES = {
    "res_odbc": "the ODBC connection pool",
    "res_config_odbc": "the Realtime driver that reads the ps_* tables over ODBC",
    "res_pjsip": "the PJSIP stack",
    "chan_pjsip": "PJSIP channels (calls to and from the extensions)",
}


def ami_config_for(server: AsteriskServer) -> AmiConfig:
    return AmiConfig(host=server.ami_host, port=server.ami_port, username=server.ami_username,
                     secret=server.ami_password, timeout=settings.ASTERISK_TIMEOUT)


def ari_config_for(server: AsteriskServer) -> AriConfig:
    return AriConfig(scheme=server.ari_scheme, host=server.ari_host, port=server.ari_port,
                     username=server.ari_username, password=server.ari_password,
                     app=server.ari_app, timeout=settings.ASTERISK_TIMEOUT)


@dataclass(frozen=True)
class ProtocolResult:
    ok: bool
    message: str


@dataclass(frozen=True)
class ConnectionResult:
    ari: ProtocolResult
    ami: ProtocolResult
    version: str = ""
    uptime: timedelta | None = None
    checked_at: datetime = field(default_factory=timezone.now)

    @property
    def ok(self) -> bool:
        return self.ari.ok and self.ami.ok

    @property
    def summary(self) -> str:
        return f"ARI: {self.ari.message}\nAMI: {self.ami.message}"


@dataclass(frozen=True)
class DiagnosticCheck:
    name: str
    status: str  # "ok", "fail" or "skip" (could not be checked, see detail)
    detail: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class AsteriskService:
    def __init__(self, server: AsteriskServer) -> None:
        self.server = server

    # --- Test Connection ---
    def test_connection(self) -> ConnectionResult:
        """Check ARI and AMI at the same time (so the whole test takes one timeout at most),
        store the outcome on the server and return it."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            ari_future = pool.submit(self._check_ari)
            ami, ami_version = self._check_ami()
            ari, version, uptime = ari_future.result()
        result = ConnectionResult(ari=ari, ami=ami, version=version or ami_version,
                                  uptime=uptime)
        server = self.server
        server.connection_status = (AsteriskServer.Status.OK if result.ok
                                    else AsteriskServer.Status.ERROR)
        server.connection_message = result.summary
        if result.version:
            server.asterisk_version = result.version
        server.last_checked_at = result.checked_at
        server.save(update_fields=["connection_status", "connection_message",
                                   "asterisk_version", "last_checked_at", "updated_at"])
        return result

    def _check_ari(self) -> tuple[ProtocolResult, str, timedelta | None]:
        try:
            with AriClient(ari_config_for(self.server)) as ari:
                info = ari.asterisk_info()
        except AriError as exc:
            return ProtocolResult(False, exc.message), "", None
        if not isinstance(info, dict):
            return ProtocolResult(False, "ARI answered JSON that is not an /asterisk/info "
                                         "object (is this Asterisk's ARI port?)"), "", None
        version = _version_text(_member(info, "system", "version"))
        uptime = _uptime(_member(info, "status", "startup_time"))
        text = f"connected, Asterisk {version or '(version not reported)'}"
        if uptime is not None:
            text += f", up {_duration(uptime)}"
        return ProtocolResult(True, text), version, uptime

    def _check_ami(self) -> tuple[ProtocolResult, str]:
        client = AmiClient(ami_config_for(self.server))
        try:
            with client.session():
                client.ping()
                version = _version_text(client.core_settings().get("AsteriskVersion", ""))
        except AmiError as exc:
            return ProtocolResult(False, exc.message), ""
        return ProtocolResult(True, "logged in, Ping answered"), version

    # --- Diagnose ---
    def diagnose(self) -> list[DiagnosticCheck]:
        """Run every check on one AMI login; a login failure is the only check then."""
        server = self.server
        client = AmiClient(ami_config_for(server))
        checks: list[DiagnosticCheck] = []
        try:
            with client.session():
                checks.append(DiagnosticCheck(
                    "AMI login", "ok", f"Logged in to {server.ami_host}:{server.ami_port} "
                                       f"as {server.ami_username}."))
                checks.append(self._check_odbc(client))
                checks += [self._check_module(client, name) for name in REQUIRED_MODULES]
                checks.append(self._check_endpoint(client))
        except AmiError as exc:
            if not checks:
                return [DiagnosticCheck("AMI login", "fail", exc.message, _ami_fix(exc, server))]
            # The session broke half-way (timeout, Asterisk went away): say so, keep the rest.
            checks.append(DiagnosticCheck("AMI session", "fail", exc.message,
                                          "Run Diagnose again; if it keeps failing, use Test "
                                          "Connection to see whether Asterisk still answers."))
        return checks

    def _check_odbc(self, client: AmiClient) -> DiagnosticCheck:
        dsn = self.server.odbc_dsn
        name = f"ODBC connection '{dsn}'"
        fix = (f"In /etc/asterisk/res_odbc.conf, section [{dsn}] needs enabled => yes, "
               f"pre-connect => yes and a dsn that exists in /etc/odbc.ini with this app's "
               f"database credentials (test it with `isql -v <dsn> <user> <password>`); then "
               f"`module reload res_odbc.so` and `odbc show` again.")
        try:
            output = client.command("odbc show")
        except AmiError as exc:
            if exc.kind != "action":
                raise
            return DiagnosticCheck(name, "fail", f"`odbc show` failed: {exc.message}",
                                   self._permission_fix(exc, "command")
                                   or "Load res_odbc (`module load res_odbc.so`). " + fix)
        connections, last_failure = _odbc_state(output, dsn)
        if connections is None:
            return DiagnosticCheck(name, "fail", f"`odbc show` does not list '{dsn}'.", fix)
        if connections == 0:
            failed = f" Its last failed attempt was at {last_failure}." if last_failure else ""
            return DiagnosticCheck(name, "fail", f"'{dsn}' has no active connection: Asterisk "
                                                 f"cannot log in to the database.{failed}", fix)
        return DiagnosticCheck(name, "ok", f"'{dsn}' is connected ({connections} active "
                                           f"connection{'s' if connections != 1 else ''}).")

    def _check_module(self, client: AmiClient, module: str) -> DiagnosticCheck:
        name = f"Module {module}"
        fix = (f"Load it: `module load {module}.so`, and make sure modules.conf does not "
               f"noload it (with preload => {module}.so for the ODBC modules, as the generated "
               f"modules.conf snippet does).")
        try:
            output = client.command(f"module show like {module}")
        except AmiError as exc:
            if exc.kind != "action":
                raise
            return DiagnosticCheck(name, "fail", exc.message,
                                   self._permission_fix(exc, "command") or fix)
        for line in output.splitlines():
            match = _MODULE_LINE.match(line)
            if match and match["module"] == f"{module}.so":
                if match["status"] == "Running":
                    return DiagnosticCheck(name, "ok", f"Loaded and running "
                                                       f"({REQUIRED_MODULES[module]}).")
                # A module that declined to load (res_pjsip without its config) stays listed.
                return DiagnosticCheck(name, "fail", "Loaded but Not Running: it declined to "
                                                     "start.",
                                       fix + " Check the Asterisk log for why it declined.")
        return DiagnosticCheck(name, "fail", f"Not loaded; it provides "
                                             f"{REQUIRED_MODULES[module]}.", fix)

    def _check_endpoint(self, client: AmiClient) -> DiagnosticCheck:
        phone = (Phone.objects.filter(server=self.server, is_active=True)
                 .order_by("extension").first())
        name = "Sample extension visible to PJSIP"
        if phone is None:
            return DiagnosticCheck(name, "skip", "This server has no active extension yet.",
                                   "Create an extension on this server, then run Diagnose "
                                   "again.")
        try:
            details = client.pjsip_show_endpoint(phone.extension)
        except AmiError as exc:
            if exc.kind != "action":
                raise
            return DiagnosticCheck(
                name, "fail", f"Asterisk cannot see extension {phone.extension}: {exc.message}",
                self._permission_fix(exc, "system") or
                "Asterisk does not read the ps_* tables: /etc/asterisk/sorcery.conf must map "
                "endpoint, auth and aor to realtime,ps_endpoints etc., and extconfig.conf must "
                f"point ps_endpoints => odbc,{self.server.odbc_dsn}. Re-run "
                "`setup_asterisk_realtime --create-config` for the snippets, then restart "
                "Asterisk.")
        endpoint = next((d for d in details if d.get("Event") == "EndpointDetail"), {})
        state = endpoint.get("DeviceState", "unknown state")
        return DiagnosticCheck(name, "ok", f"Extension {phone.extension} is known to PJSIP "
                                           f"({state}).")


    def _permission_fix(self, exc: AmiError, permission: str) -> str:
        """The fix when the AMI user may not run the action: Asterisk answers "Permission
        denied" (manager.c), which says nothing about the module being checked."""
        if "Permission denied" not in exc.message:
            return ""
        return (f"The AMI user {self.server.ami_username} may not run this action: add "
                f"{permission} to its write = line in /etc/asterisk/manager.conf (the full line "
                f"is in docs/call-control.md), then `manager reload`.")


def _ami_fix(exc: AmiError, server: AsteriskServer) -> str:
    if exc.kind == "auth":
        return ("Check the AMI username and password here against /etc/asterisk/manager.conf "
                f"([{server.ami_username}] secret = ...), then `manager reload`.")
    if exc.kind == "timeout":
        return ("Something accepts the connection but does not speak AMI in time: check the "
                "AMI port (usually 5038) and that Asterisk is not hung.")
    return (f"Check that Asterisk runs, that manager.conf has enabled = yes and bindaddr/port "
            f"matching {server.ami_host}:{server.ami_port}, and that no firewall blocks it.")


# cli.c handle_modlist prints "%-30s %-40.40s %-10d %-11s %13s": module, description, use
# count, "Running" or "Not Running", support level. Read from the end: a description may
# contain anything, including the word Running.
_MODULE_LINE = re.compile(r"^(?P<module>\S+)\s.*?\s(?P<uses>-?\d+)\s+"
                          r"(?P<status>Not Running|Running)\s+\S+\s*$")
_ODBC_NAME = re.compile(r"^\s*Name:\s*(\S+)\s*$")
_ODBC_ACTIVE = re.compile(r"Number of active connections:\s*(\d+)")
# res_odbc.c prints it only after a connection attempt failed.
_ODBC_LAST_FAIL = re.compile(r"Last fail connection attempt:\s*(.+?)\s*$")


def _odbc_state(output: str, dsn: str) -> tuple[int | None, str]:
    """(active connections, time of the last failed attempt or "") of the res_odbc class
    `dsn` in `odbc show` output; connections is None if the class is not listed."""
    current, seen, last_failure = None, False, ""
    for line in output.splitlines():
        if match := _ODBC_NAME.match(line):
            current = match.group(1)
            seen = seen or current == dsn
        elif current == dsn and (match := _ODBC_LAST_FAIL.search(line)):
            last_failure = match.group(1)
        elif current == dsn and (match := _ODBC_ACTIVE.search(line)):
            return int(match.group(1)), last_failure
    return (0 if seen else None), last_failure


def _member(info: dict, section: str, key: str) -> object:
    """info[section][key], or None when a faulty server sent another shape."""
    part = info.get(section)
    return part.get(key) if isinstance(part, dict) else None


# The width of AsteriskServer.asterisk_version; a real version is "22.10.1" or "GIT-master-x".
VERSION_MAX = 40


def _version_text(value: object) -> str:
    """A version as shown and stored: printable ASCII, at most the column's width."""
    if not isinstance(value, (str, int, float)):
        return ""
    text = "".join(ch for ch in str(value) if " " <= ch <= "~").strip()
    return text[:VERSION_MAX]


def _uptime(startup_time: object) -> timedelta | None:
    if not isinstance(startup_time, str):
        return None
    try:
        started = datetime.fromisoformat(startup_time)
    except ValueError:
        return None
    if started.tzinfo is None:
        return None
    return max(timezone.now() - started, timedelta(0))


def _duration(value: timedelta) -> str:
    minutes = int(value.total_seconds()) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"
