"""setup_asterisk_realtime: generated files parsed as Asterisk parses them, and the checks.

The command needs PostgreSQL or MySQL/MariaDB (Asterisk cannot read SQLite), so each test
asserts the real behaviour on those and the refusal on SQLite: the suite runs on all three.
"""

import io
import os

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from telephony.asterisk import confgen
from telephony.asterisk.realtime_schema import REALTIME_FAMILIES
from telephony.models import AsteriskServer, Phone, PsAuth, PsEndpoint
from telephony.tests.asterisk_conf import as_dict, parse

pytestmark = pytest.mark.django_db

FILES = {"extconfig.conf", "sorcery.conf", "res_odbc.conf", "odbc.ini", "odbcinst.ini",
         "pjsip_realtime.conf", "modules.conf", "extensions.conf", "README.txt"}
REALTIME = connection.vendor in ("postgresql", "mysql")


def run(*args):
    out = io.StringIO()
    call_command("setup_asterisk_realtime", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def server():
    return AsteriskServer.objects.create(
        name="pbx1", host="10.0.0.5", ami_host="10.0.0.5", ami_username="autodialer",
        ami_password="amipass", ari_host="10.0.0.5", ari_username="autodialer",
        ari_password="aripass", odbc_dsn="pbx1", sip_bind="10.0.0.5", sip_port=5080)


@pytest.fixture
def phone(server):
    return Phone.objects.create(extension="1001", name="Agent 1001",
                                secret="s3cretS3cretS3cret99", server=server)


def test_on_sqlite_it_refuses_with_the_reason_and_writes_nothing(tmp_path):
    if REALTIME:
        assert "All checks passed" in run("--check")
        return
    with pytest.raises(CommandError) as excinfo:
        run("--create-config", "--output-dir", str(tmp_path))
    assert "Asterisk cannot use it" in str(excinfo.value)
    assert "DATABASE_URL" in str(excinfo.value)
    assert list(tmp_path.iterdir()) == []


def test_create_config_writes_every_file_asterisk_needs(tmp_path, phone):
    if not REALTIME:
        with pytest.raises(CommandError, match="SQLite|sqlite"):
            run("--create-config", "--output-dir", str(tmp_path))
        return
    output = run("--create-config", "--output-dir", str(tmp_path))
    assert {p.name for p in tmp_path.iterdir()} == FILES
    assert "All checks passed" in output
    db = connection.settings_dict
    dsn = "pbx1"  # the only active server's DSN

    sections, _ = parse((tmp_path / "extconfig.conf").read_text())
    assert list(sections) == ["settings"]
    assert as_dict(sections["settings"]) == {
        "ps_endpoints": f"odbc,{dsn},ps_endpoints",
        "ps_auths": f"odbc,{dsn},ps_auths",
        "ps_aors": f"odbc,{dsn},ps_aors",
        "ps_contacts": f"odbc,{dsn},ps_contacts",
        "ps_endpoint_id_ips": f"odbc,{dsn},ps_endpoint_id_ips",
        "ps_registrations": f"odbc,{dsn},ps_registrations",
        "ps_domain_aliases": f"odbc,{dsn},ps_domain_aliases",
        "extensions": f"odbc,{dsn},extensions_table",
    }

    sections, _ = parse((tmp_path / "sorcery.conf").read_text())
    assert {name: as_dict(pairs) for name, pairs in sections.items()} == {
        "res_pjsip": {"endpoint": "realtime,ps_endpoints", "auth": "realtime,ps_auths",
                      "aor": "realtime,ps_aors", "contact": "realtime,ps_contacts",
                      "domain_alias": "realtime,ps_domain_aliases"},
        "res_pjsip_endpoint_identifier_ip": {"identify": "realtime,ps_endpoint_id_ips"},
        "res_pjsip_outbound_registration": {"registration": "realtime,ps_registrations"},
    }

    sections, _ = parse((tmp_path / "res_odbc.conf").read_text())
    assert as_dict(sections[dsn]) == {
        "enabled": "yes", "dsn": dsn, "username": db["USER"], "password": "CHANGE-ME",
        "pre-connect": "yes", "max_connections": "20", "sanitysql": "select 1"}

    sections, _ = parse((tmp_path / "odbc.ini").read_text())
    ini = as_dict(sections[dsn])
    assert ini["Database"] == db["NAME"]
    assert ini["Password"] == "CHANGE-ME"
    if connection.vendor == "postgresql":
        assert ini["Driver"] == "PostgreSQL Unicode"
        assert (ini["Servername"], ini["Port"], ini["Username"]) == (
            db["HOST"], str(db["PORT"] or "5432"), db["USER"])
    else:
        assert ini["Driver"] == "MariaDB Unicode"
        assert (ini["Server"], ini["Port"], ini["User"]) == (
            db["HOST"], str(db["PORT"] or "3306"), db["USER"])
    sections, _ = parse((tmp_path / "odbcinst.ini").read_text())
    assert list(sections) == [ini["Driver"]]
    assert as_dict(sections[ini["Driver"]])["Driver"] in {"psqlodbcw.so", "libmaodbc.so"}

    sections, _ = parse((tmp_path / "pjsip_realtime.conf").read_text())
    assert as_dict(sections["transport-udp"]) == {
        "type": "transport", "protocol": "udp", "bind": "10.0.0.5:5080"}
    assert "; [transport-wss]" in (tmp_path / "pjsip_realtime.conf").read_text()

    sections, _ = parse((tmp_path / "modules.conf").read_text())
    assert sections["modules"] == [("preload", "res_odbc.so"), ("preload", "res_config_odbc.so")]

    sections, _ = parse((tmp_path / "extensions.conf").read_text())
    assert sections["agents"] == [("switch", "Realtime/agents@extensions")]

    readme = (tmp_path / "README.txt").read_text()
    assert "odbc show" in readme and "pjsip show endpoint 1001" in readme
    for name in FILES:
        first = (tmp_path / name).read_text().splitlines()[0]
        assert "setup_asterisk_realtime" in first, name


def test_running_twice_gives_identical_files(tmp_path, phone):
    if not REALTIME:
        with pytest.raises(CommandError):
            run("--create-config", "--output-dir", str(tmp_path))
        return
    first, second = tmp_path / "a", tmp_path / "b"
    run("--create-config", "--output-dir", str(first))
    run("--create-config", "--output-dir", str(second))
    for name in FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_server_option_picks_that_servers_dsn_and_bind(tmp_path, server):
    AsteriskServer.objects.create(
        name="pbx2", host="10.0.0.6", ami_host="10.0.0.6", ami_username="a", ami_password="b",
        ari_host="10.0.0.6", ari_username="a", ari_password="b", odbc_dsn="pbx2dsn")
    if not REALTIME:
        with pytest.raises(CommandError):
            run("--create-config", "--server", "pbx2", "--output-dir", str(tmp_path))
        return
    run("--create-config", "--server", "pbx2", "--output-dir", str(tmp_path))
    sections, _ = parse((tmp_path / "res_odbc.conf").read_text())
    assert list(sections) == ["pbx2dsn"]
    sections, _ = parse((tmp_path / "pjsip_realtime.conf").read_text())
    assert as_dict(sections["transport-udp"])["bind"] == "0.0.0.0:5060"
    assert "--server pbx2" in (tmp_path / "extconfig.conf").read_text().splitlines()[0]
    with pytest.raises(CommandError, match="No Asterisk server named 'nope'"):
        run("--create-config", "--server", "nope", "--output-dir", str(tmp_path))


def test_include_password_writes_the_real_one(tmp_path, settings):
    if not REALTIME:
        with pytest.raises(CommandError):
            run("--create-config", "--include-password", "--output-dir", str(tmp_path))
        return
    run("--create-config", "--include-password", "--output-dir", str(tmp_path))
    sections, _ = parse((tmp_path / "res_odbc.conf").read_text())
    password = connection.settings_dict["PASSWORD"] or "CHANGE-ME"
    assert as_dict(sections["asterisk"])["password"] == password


def test_check_fails_naming_a_dropped_column(transactional_db):
    if not REALTIME:
        with pytest.raises(CommandError, match="Asterisk cannot use it"):
            run("--check")
        return
    field = PsEndpoint._meta.get_field("allow")
    with connection.schema_editor() as editor:
        editor.remove_field(PsEndpoint, field)
    try:
        out = io.StringIO()
        with pytest.raises(CommandError, match="1 check"):
            call_command("setup_asterisk_realtime", "--check", stdout=out)
        assert "[FAIL] table ps_endpoints lacks column(s) allow" in out.getvalue()
        assert "[PASS] table ps_auths has all 13 columns" in out.getvalue()
    finally:
        with connection.schema_editor() as editor:
            editor.add_field(PsEndpoint, field)
    assert "All checks passed" in run("--check")


def test_check_fails_on_an_incomplete_sample_phone(phone):
    if not REALTIME:
        with pytest.raises(CommandError):
            run("--check")
        return
    PsAuth.objects.filter(id="1001").delete()
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("setup_asterisk_realtime", "--check", stdout=out)
    assert "[FAIL] extension 1001 rows are incomplete: ps_auths row missing" in out.getvalue()
    run("--sync-existing")  # rewrites the missing row
    assert PsAuth.objects.filter(id="1001", auth_type="userpass").exists()


def test_config_files_parse_on_every_database_engine():
    """The renderer itself, independent of the database in use: both vendors' files parse."""
    for vendor in ("postgresql", "mysql"):
        spec = confgen.ConfigSpec(
            db=confgen.DatabaseFacts(vendor=vendor, host="db", port="", name="ad", user="u",
                                     password="p"),
            command="test", contexts=("agents", "from-trunk"), other_transports=("transport-tls",))
        files = confgen.render_all(spec)
        assert set(files) == FILES
        for name, text in files.items():
            if name != "README.txt":
                parse(text)
        ext, _ = parse(files["extconfig.conf"])
        sorcery, _ = parse(files["sorcery.conf"])
        families = {key for key, _ in ext["settings"]}
        named = {value.split(",")[1] for pairs in sorcery.values() for _, value in pairs}
        # A family sorcery.conf names but extconfig.conf lacks stops all of res_pjsip.
        assert named <= families
        assert families == {f.family for f in REALTIME_FAMILIES}
        extensions, _ = parse(files["extensions.conf"])
        assert extensions["from-trunk"] == [("switch", "Realtime/from-trunk@extensions")]
        assert "[transport-tls]" in files["pjsip_realtime.conf"]
        odbc, _ = parse(files["odbc.ini"])
        assert as_dict(odbc["asterisk"])["Port"] == ("5432" if vendor == "postgresql" else "3306")


def test_sync_existing_rewrites_rows_lists_orphans_and_prune_deletes_them(phone):
    from telephony.models import PsContact

    if not REALTIME:
        with pytest.raises(CommandError):
            run("--sync-existing")
        return
    PsEndpoint.objects.filter(id="1001").update(context="wrong", allow="gsm")
    PsEndpoint.objects.create(id="9999", context="agents")
    PsAuth.objects.create(id="9999", auth_type="userpass", username="9999", password="x" * 20)
    PsContact.objects.create(id="9999^3B@deadbeef", endpoint="9999")

    out = run("--sync-existing")
    assert "Synced 1 extension(s)" in out
    assert "Found 3 realtime row(s)" in out
    assert "ps_endpoints: 9999" in out and "ps_auths: 9999" in out
    assert "ps_contacts: 9999^3B@deadbeef" in out
    assert PsEndpoint.objects.filter(id="9999").exists()  # listed, not deleted
    assert PsEndpoint.objects.values_list("context", "allow").get(id="1001") == (
        "agents", "ulaw,alaw")

    out = run("--sync-existing", "--prune")
    assert "Deleted 3 realtime row(s)" in out
    assert not PsEndpoint.objects.filter(id="9999").exists()
    assert not PsAuth.objects.filter(id="9999").exists()
    assert not PsContact.objects.filter(endpoint="9999").exists()
    assert PsEndpoint.objects.filter(id="1001").exists()
    assert "No orphan realtime rows." in run("--sync-existing")


def test_prune_needs_sync_existing():
    if not REALTIME:
        with pytest.raises(CommandError):
            run("--prune")
        return
    with pytest.raises(CommandError, match="--prune works together with --sync-existing"):
        run("--prune")


def test_scaffold_dialplan_flag_writes_the_agents_context(phone):
    from telephony.models import ExtensionsTable

    if not REALTIME:
        with pytest.raises(CommandError):
            run("--scaffold-dialplan")
        return
    out = run("--scaffold-dialplan")
    assert "Context agents" in out
    rows = set(ExtensionsTable.objects.filter(context="agents")
               .values_list("exten", "priority", "app", "appdata"))
    assert ("_1XXX", 1, "Dial", "PJSIP/${EXTEN},30") in rows
    run("--scaffold-dialplan")
    assert set(ExtensionsTable.objects.filter(context="agents")
               .values_list("exten", "priority", "app", "appdata")) == rows


def _connect_as(user: str):
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        import psycopg2

        return psycopg2.connect(host=db["HOST"], port=db["PORT"] or 5432, dbname=db["NAME"],
                                user=user, password="CHANGE-ME")
    import MySQLdb

    return MySQLdb.connect(host=db["HOST"], port=int(db["PORT"] or 3306), user=user,
                           passwd="CHANGE-ME", db=db["NAME"])


def test_grants_sql_makes_a_user_that_reads_everything_and_writes_only_contacts(
        tmp_path, transactional_db):
    user = f"ast_ro_{os.getpid()}"
    if not REALTIME:
        with pytest.raises(CommandError):
            run("--create-config", "--asterisk-db-user", user, "--output-dir", str(tmp_path))
        return
    with pytest.raises(CommandError, match="--asterisk-db-user"):
        run("--create-config", "--asterisk-db-user", "x; DROP", "--output-dir", str(tmp_path))
    run("--create-config", "--asterisk-db-user", user, "--output-dir", str(tmp_path))
    sections, _ = parse((tmp_path / "res_odbc.conf").read_text())
    assert as_dict(sections["asterisk"])["username"] == user
    assert user in (tmp_path / "odbc.ini").read_text()

    statements = [line for line in (tmp_path / "grants.sql").read_text().splitlines()
                  if line and not line.startswith("--")]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    try:
        asterisk = _connect_as(user)
        try:
            cursor = asterisk.cursor()
            cursor.execute("SELECT count(*) FROM ps_endpoints")
            cursor.execute("INSERT INTO ps_contacts (id, endpoint) VALUES ('1001^3B@x', '1001')")
            asterisk.commit()
            with pytest.raises(Exception, match="(?i)denied"):
                cursor.execute("INSERT INTO ps_endpoints (id) VALUES ('9999')")
        finally:
            asterisk.close()
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP OWNED BY {user}")
                cursor.execute(f"DROP USER {user}")
            else:
                cursor.execute(f"DROP USER '{user}'@'%'")
