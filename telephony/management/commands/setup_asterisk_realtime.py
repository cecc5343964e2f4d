"""`python manage.py setup_asterisk_realtime`: what an operator needs to point Asterisk at us.

Always verifies the realtime tables (alone with --check); --sync-existing rewrites every row
Asterisk reads from what the app holds; --create-config writes the Asterisk/ODBC files.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from telephony.asterisk import confgen
from telephony.realtime.check import SUPPORTED_VENDORS, check_engine, run_checks


class Command(BaseCommand):
    help = "Verify the Asterisk realtime tables, re-sync them, and write Asterisk config files."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true",
                            help="Only verify the database; change nothing, write nothing.")
        parser.add_argument("--sync-existing", action="store_true",
                            help="Rewrite the realtime rows of every extension, carrier and "
                                 "dialplan context; list rows nothing owns.")
        parser.add_argument("--prune", action="store_true",
                            help="With --sync-existing: delete the rows nothing owns.")
        parser.add_argument("--scaffold-dialplan", action="store_true",
                            help="Create or update the default 'agents' dialplan context.")
        parser.add_argument("--create-config", action="store_true",
                            help="Write extconfig.conf, sorcery.conf, res_odbc.conf, ... ")
        parser.add_argument("--output-dir", default="/tmp",
                            help="Where --create-config writes (default: /tmp).")
        parser.add_argument("--server", metavar="NAME",
                            help="Generate the config of this Asterisk server (DSN, bind).")
        parser.add_argument("--include-password", action="store_true",
                            help="Write the database password instead of a placeholder.")
        parser.add_argument("--asterisk-db-user", metavar="NAME",
                            help="Have Asterisk connect as this database user (read-only but "
                                 "for ps_contacts) and write grants.sql that creates it.")

    def handle(self, *args, **opts):
        engine = check_engine()
        if not engine.ok:
            raise CommandError(f"{engine.title}.\n{engine.detail}")

        if not opts["check"]:
            if opts["sync_existing"]:
                self._sync(prune=opts["prune"])
            elif opts["prune"]:
                raise CommandError("--prune works together with --sync-existing.")
            if opts["scaffold_dialplan"]:
                self._scaffold()
            if opts["create_config"]:
                self._write_config(opts)

        self._verify()

    # -- verification ---------------------------------------------------------------------

    def _verify(self) -> None:
        failed = 0
        self.stdout.write("Checking the realtime tables Asterisk reads:")
        for check in run_checks():
            if check.ok:
                self.stdout.write(self.style.SUCCESS(f"  [PASS] {check.title}"))
            else:
                failed += 1
                self.stdout.write(self.style.ERROR(f"  [FAIL] {check.title}"))
                if check.detail:
                    self.stdout.write(f"         {check.detail}")
        if failed:
            raise CommandError(f"{failed} check(s) failed.")
        self.stdout.write(self.style.SUCCESS("All checks passed."))

    # -- sync -----------------------------------------------------------------------------

    def _sync(self, *, prune: bool) -> None:
        from telephony.realtime.sync import realtime_sync_all

        report = realtime_sync_all(prune=prune)
        self.stdout.write(
            f"Synced {report.phones} extension(s), {report.carriers} carrier(s), "
            f"{report.contexts} dialplan context(s) ({report.rows} realtime rows written).")
        if report.orphans:
            verb = "Deleted" if prune else "Found"
            self.stdout.write(self.style.WARNING(
                f"{verb} {len(report.orphans)} realtime row(s) that no extension, carrier or "
                "dialplan context owns:"))
            for table, ident in report.orphans:
                self.stdout.write(f"  {table}: {ident}")
            if not prune:
                self.stdout.write("  Re-run with --sync-existing --prune to delete them.")
        else:
            self.stdout.write("No orphan realtime rows.")
        self._reload_carriers()

    def _reload_carriers(self) -> None:
        # Asterisk qualifies and registers carriers as res_pjsip last loaded them: rewritten
        # rows take effect once each carrier's server reloads (services/carriers.py).
        from telephony.models import Carrier
        from telephony.services.carriers import carriers_asterisk_reload

        carriers = list(Carrier.objects.select_related("server"))
        if not carriers:
            return
        warnings = carriers_asterisk_reload(carriers)
        for warning in warnings:
            self.stdout.write(self.style.WARNING(warning))
        servers = {carrier.server_id for carrier in carriers}
        if len(warnings) < len(servers):
            self.stdout.write(f"Asked {len(servers) - len(warnings)} server(s) to reload their "
                              "carriers (res_pjsip).")

    def _scaffold(self) -> None:
        from telephony.services.dialplan import dialplan_scaffold_agents

        result = dialplan_scaffold_agents()
        for line in result.messages:
            self.stdout.write(line)

    # -- config ---------------------------------------------------------------------------

    def _write_config(self, opts) -> None:
        spec = build_spec(opts)
        out = Path(opts["output_dir"])
        out.mkdir(parents=True, exist_ok=True)
        for name, text in confgen.render_all(spec).items():
            (out / name).write_text(text)
            self.stdout.write(f"Wrote {out / name}")
        self.stdout.write(f"Next steps: {out / 'README.txt'}")


def _db_user_name(name: str | None) -> str | None:
    # It goes into SQL and config files as is: keep it to a plain identifier.
    if name is not None and not re.fullmatch(r"[a-z_][a-z0-9_]{0,31}", name):
        raise CommandError("--asterisk-db-user must be lowercase letters, digits and '_' "
                           "(at most 32, not starting with a digit).")
    return name


def build_spec(opts) -> confgen.ConfigSpec:
    from telephony.models import AsteriskServer, Carrier, DialplanContext, Phone
    from telephony.realtime.carriers import inbound_context

    db = settings.DATABASES["default"]
    vendor = "postgresql" if db["ENGINE"].endswith("postgresql") else "mysql"
    assert vendor in SUPPORTED_VENDORS
    facts = confgen.DatabaseFacts(
        vendor=vendor, host=db.get("HOST") or "127.0.0.1", port=str(db.get("PORT") or ""),
        name=db["NAME"], user=db.get("USER") or "", password=db.get("PASSWORD") or "")

    server = None
    if opts.get("server"):
        server = AsteriskServer.objects.filter(name=opts["server"]).first()
        if server is None:
            names = ", ".join(AsteriskServer.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No Asterisk server named {opts['server']!r} (known: {names}).")
    else:
        active = list(AsteriskServer.objects.filter(is_active=True)[:2])
        server = active[0] if len(active) == 1 else None

    phones = Phone.objects.filter(is_active=True)
    carriers = Carrier.objects.filter(is_active=True)
    if server is not None:
        phones = phones.filter(server=server)
        carriers = carriers.filter(server=server)
    contexts = {"agents"}
    contexts.update(phones.values_list("context", flat=True).distinct())
    contexts.update(DialplanContext.objects.values_list("name", flat=True))
    transports = set(phones.values_list("transport", flat=True).distinct())
    transports.update(carriers.values_list("transport", flat=True).distinct())
    transports.discard("transport-udp")

    command = "python manage.py setup_asterisk_realtime --create-config"
    if server is not None and opts.get("server"):
        command += f" --server {server.name}"
    if opts.get("asterisk_db_user"):
        command += f" --asterisk-db-user {opts['asterisk_db_user']}"
    return confgen.ConfigSpec(
        db=facts,
        command=command,
        dsn=server.odbc_dsn if server else "asterisk",
        sip_bind=server.sip_bind if server else "0.0.0.0",
        sip_port=server.sip_port if server else 5060,
        server_name=server.name if server else None,
        stasis_app=server.ari_app if server else AsteriskServer._meta.get_field("ari_app").default,
        include_password=bool(opts.get("include_password")),
        asterisk_user=_db_user_name(opts.get("asterisk_db_user")),
        contexts=tuple(sorted(contexts)),
        # Always, not only once a carrier exists: the first carrier added in the web UI then
        # needs no change on the Asterisk host, and an empty context costs nothing.
        inbound_context=inbound_context(),
        other_transports=tuple(sorted(transports)),
        sample_extension=phones.order_by("extension").values_list("extension", flat=True).first(),
    )
