"""setup_asterisk_realtime: generated files parsed as Asterisk parses them, and the checks.

The command needs PostgreSQL or MySQL/MariaDB (Asterisk cannot read SQLite): on SQLite one test
proves the refusal and the others are skipped, saying why. CI runs the suite on PostgreSQL and
MariaDB too, where none of them is skipped.
"""

import io
import os
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from telephony.asterisk import confgen
from telephony.asterisk.realtime_schema import REALTIME_FAMILIES, TABLES
from telephony.models import AsteriskServer, Phone, PsAuth, PsEndpoint
from telephony.tests.asterisk_conf import as_dict, parse
from telephony.tests.phone_helpers import make_server

pytestmark = pytest.mark.django_db

FILES = {"extconfig.conf", "sorcery.conf", "res_odbc.conf", "odbc.ini", "odbcinst.ini",
         "pjsip_realtime.conf", "modules.conf", "extensions.conf", "amd.conf", "README.txt"}
REALTIME = connection.vendor in ("postgresql", "mysql")
needs_realtime_db = pytest.mark.skipif(
    not REALTIME, reason="the command needs PostgreSQL or MySQL/MariaDB (Asterisk cannot read "
                         "SQLite); CI runs this on both, and the refusal is tested on SQLite")


def run(*args):
    out = io.StringIO()
    call_command("setup_asterisk_realtime", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def server():
    # The generated files name the DSN, bind address and port: none of them the defaults.
    return make_server(host="10.0.0.5", odbc_dsn="pbx1", sip_bind="10.0.0.5", sip_port=5080)


@pytest.fixture
def phone(server):
    return Phone.objects.create(extension="1001", name="Agent 1001",
                                secret="s3cretS3cretS3cret99", server=server)


@pytest.mark.skipif(REALTIME, reason="the refusal is SQLite's; other databases are supported")
def test_on_sqlite_it_refuses_with_the_reason_and_writes_nothing(tmp_path):
    with pytest.raises(CommandError) as excinfo:
        run("--create-config", "--output-dir", str(tmp_path))
    assert "Asterisk cannot use it" in str(excinfo.value)
    assert "DATABASE_URL" in str(excinfo.value)
    assert list(tmp_path.iterdir()) == []


@needs_realtime_db
def test_check_passes_on_a_freshly_migrated_database():
    assert "All checks passed" in run("--check")


@needs_realtime_db
def test_create_config_writes_every_file_asterisk_needs(tmp_path, phone):
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
    # Issue #12: why a carrier's identify row can capture phones' REGISTERs; a comment only,
    # so Asterisk keeps its default and an operator's own [global] section is not doubled.
    assert ";   endpoint_identifier_order = ip,username,anonymous" in (
        tmp_path / "pjsip_realtime.conf").read_text()
    assert "global" not in sections

    sections, _ = parse((tmp_path / "modules.conf").read_text())
    assert sections["modules"] == [("preload", "res_odbc.so"), ("preload", "res_config_odbc.so")]

    sections, _ = parse((tmp_path / "extensions.conf").read_text())
    assert sections["agents"] == [("switch", "Realtime/agents@extensions")]

    readme = (tmp_path / "README.txt").read_text()
    assert "odbc show" in readme and "pjsip show endpoint 1001" in readme
    for name in FILES:
        first = (tmp_path / name).read_text().splitlines()[0]
        assert "setup_asterisk_realtime" in first, name


@needs_realtime_db
def test_running_twice_gives_identical_files(tmp_path, phone):
    first, second = tmp_path / "a", tmp_path / "b"
    run("--create-config", "--output-dir", str(first))
    run("--create-config", "--output-dir", str(second))
    for name in FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@needs_realtime_db
def test_server_option_picks_that_servers_dsn_and_bind(tmp_path, server):
    AsteriskServer.objects.create(
        name="pbx2", host="10.0.0.6", ami_host="10.0.0.6", ami_username="a", ami_password="b",
        ari_host="10.0.0.6", ari_username="a", ari_password="b", odbc_dsn="pbx2dsn")
    run("--create-config", "--server", "pbx2", "--output-dir", str(tmp_path))
    sections, _ = parse((tmp_path / "res_odbc.conf").read_text())
    assert list(sections) == ["pbx2dsn"]
    sections, _ = parse((tmp_path / "pjsip_realtime.conf").read_text())
    assert as_dict(sections["transport-udp"])["bind"] == "0.0.0.0:5060"
    assert "--server pbx2" in (tmp_path / "extconfig.conf").read_text().splitlines()[0]
    with pytest.raises(CommandError, match="No Asterisk server named 'nope'"):
        run("--create-config", "--server", "nope", "--output-dir", str(tmp_path))


@needs_realtime_db
def test_include_password_writes_the_real_one(tmp_path, settings):
    run("--create-config", "--include-password", "--output-dir", str(tmp_path))
    sections, _ = parse((tmp_path / "res_odbc.conf").read_text())
    password = connection.settings_dict["PASSWORD"] or "CHANGE-ME"
    assert as_dict(sections["asterisk"])["password"] == password


@needs_realtime_db
def test_check_fails_naming_a_dropped_column(transactional_db):
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


def _check_output() -> str:
    """--check's report, which must fail."""
    out = io.StringIO()
    with pytest.raises(CommandError, match="check"):
        call_command("setup_asterisk_realtime", "--check", stdout=out)
    return out.getvalue()


def _pg_indexes(table: str) -> dict[str, str]:
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def _swap_field(model, name: str, replacement):
    """Give a column another type, as a DBA (or a careless migration) might; returns an undo.

    The undo leaves the table as the migration made it, indexes included: altering a varchar
    primary key back on PostgreSQL does not bring back its varchar_pattern_ops index by itself.
    """
    table = model._meta.db_table
    original = model._meta.get_field(name)
    replacement.set_attributes_from_name(name)
    replacement.model = model
    indexes = _pg_indexes(table)
    with connection.schema_editor() as editor:
        editor.alter_field(model, original, replacement)

    def undo():
        with connection.schema_editor() as editor:
            editor.alter_field(model, replacement, original)
        with connection.cursor() as cursor:
            for index, ddl in indexes.items():
                if index not in _pg_indexes(table):
                    cursor.execute(ddl)
        assert _pg_indexes(table) == indexes
    return undo


def _apply_printed_fix(out: str, column: str) -> None:
    """Run the SQL statements the failing check prints to fix this column."""
    line = next(line for line in out.splitlines() if "ALTER TABLE" in line and column in line)
    sql = line[line.index("ALTER TABLE"):line.rindex(";")]
    with connection.cursor() as cursor:
        for statement in sql.split("; "):
            cursor.execute(statement)


@needs_realtime_db
def test_check_fails_naming_an_integer_id_and_prints_the_fix(transactional_db):
    from django.db import models

    from telephony.models import PsDomainAlias

    assert "[PASS] the id of all 7 PJSIP tables is a varchar" in run("--check")
    # What docs/asterisk-behaviour.md warns about: a Django auto id (identity on PostgreSQL,
    # AUTO_INCREMENT on MySQL).
    undo = _swap_field(PsDomainAlias, "id", models.AutoField(primary_key=True))
    try:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO ps_domain_aliases (domain) VALUES ('example.com')")
        out = _check_output()
        assert re.search(r"\[FAIL\] ps_domain_aliases\.id is (integer|int(\(11\))?), not a "
                         r"varchar: Asterisk names each object by its id", out), out
        assert out.count("[FAIL]") == 1 and "--sync-existing" in out

        _apply_printed_fix(out, "ps_domain_aliases")
        assert "All checks passed" in run("--check")
        assert list(PsDomainAlias.objects.values_list("id", "domain")) == [("1", "example.com")]
    finally:
        undo()
    assert "All checks passed" in run("--check")


@needs_realtime_db
def test_check_fails_naming_a_yes_no_column_made_boolean(transactional_db):
    from django.db import models

    from telephony.models import PsAor

    yes_no = sum(c.enum == "ast_bool_values" for columns in TABLES.values() for c in columns)
    assert f"[PASS] all {yes_no} yes/no columns are strings, not booleans" in run("--check")
    undo = _swap_field(PsAor, "remove_existing", models.BooleanField(null=True))
    try:
        out = _check_output()
        shown = "boolean" if connection.vendor == "postgresql" else "tinyint(1)"
        assert f"[FAIL] ps_aors.remove_existing is {shown}, not a yes/no string" in out, out
        assert "ALTER TABLE" in out and "varchar(3)" in out
        assert out.count("[FAIL]") == 1
    finally:
        undo()
    assert "All checks passed" in run("--check")


@needs_realtime_db
def test_the_yes_no_fix_the_check_prints_restores_the_column(transactional_db):
    from django.db import models

    from telephony.models import PsAor

    undo = _swap_field(PsAor, "remove_existing", models.BooleanField(null=True))
    try:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO ps_aors (id, max_contacts, remove_existing)"
                           " VALUES ('1001', 1, TRUE), ('1002', 1, NULL)")
        _apply_printed_fix(_check_output(), "remove_existing")
        assert "All checks passed" in run("--check")
        values = dict(PsAor.objects.values_list("id", "remove_existing"))
        # MariaDB keeps the tinyint's '1', which Asterisk reads as yes as well.
        assert values["1001"] in {"yes", "1"} and values["1002"] is None
    finally:
        undo()  # a no-op once the fix worked


@needs_realtime_db
def test_check_fails_when_contacts_id_lacks_a_prefix_like_index(db):
    if connection.vendor != "postgresql":
        # MariaDB serves a prefix LIKE from the primary key: nothing to check, nothing printed.
        assert "prefix LIKE" not in run("--check")
        return
    assert "[PASS] ps_contacts.id has an index for Asterisk's prefix LIKE lookups" in run("--check")
    # DDL is transactional on PostgreSQL: the test's rollback brings the index back.
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'ps_contacts'"
                       " AND indexdef LIKE '%%varchar_pattern_ops%%'")
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    out = _check_output()
    assert "[FAIL] ps_contacts.id has no index that serves a prefix LIKE" in out
    assert "CREATE INDEX ps_contacts_id_like ON ps_contacts (id varchar_pattern_ops);" in out

    with connection.cursor() as cursor:  # a C-collation index serves it too
        cursor.execute('CREATE INDEX ps_contacts_id_c ON ps_contacts (id COLLATE "C")')
    assert "(ps_contacts_id_c)" in run("--check")


@needs_realtime_db
def test_check_fails_on_an_incomplete_sample_phone(phone):
    PsAuth.objects.filter(id="1001").delete()
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("setup_asterisk_realtime", "--check", stdout=out)
    assert "[FAIL] extension 1001 rows are incomplete: ps_auths row missing" in out.getvalue()
    run("--sync-existing")  # rewrites the missing row
    assert PsAuth.objects.filter(id="1001", auth_type="userpass").exists()


@needs_realtime_db
@pytest.mark.parametrize("remove_existing", [None, "no"])
def test_check_fails_when_the_sample_aor_keeps_old_registrations(phone, remove_existing):
    from telephony.models import PsAor

    PsAor.objects.filter(id="1001").update(remove_existing=remove_existing)
    out = _check_output()
    assert ("[FAIL] extension 1001 rows are incomplete: ps_aors.remove_existing must be yes"
            in out)
    assert "--sync-existing" in out
    run("--sync-existing")
    assert PsAor.objects.values_list("remove_existing", "max_contacts").get(id="1001") == (
        "yes", 1)


@needs_realtime_db
@pytest.mark.parametrize("password", ["se;cret-s3cret-s3cret", "se^3Bcret-s3cret-s3cret"])
def test_check_fails_when_the_sample_password_has_a_character_odbc_mangles(phone, password):
    assert "[PASS] extension 1001 has complete" in run("--check")
    PsAuth.objects.filter(id="1001").update(password=password)
    out = _check_output()
    assert ("[FAIL] extension 1001 rows are incomplete: ps_auths.password contains ';' or '^'"
            in out)


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


def _spec(**kwargs) -> confgen.ConfigSpec:
    return confgen.ConfigSpec(
        db=confgen.DatabaseFacts(vendor="postgresql", host="db", port="", name="ad", user="u"),
        command="test", **kwargs)


def test_sorcery_conf_says_how_to_keep_the_objects_of_pjsip_conf():
    """A realtime mapping hides pjsip.conf's objects; the file shows the line that keeps them."""
    text = confgen.render_sorcery(_spec())
    assert "REPLACE Asterisk's default, pjsip.conf" in text
    assert "(an existing trunk, say) are ignored" in text
    lines = text.splitlines()
    for family in REALTIME_FAMILIES:
        kind = family.sorcery_object
        if kind is None:
            continue
        before = lines[lines.index(f"{kind} = realtime,{family.family}") - 1]
        if kind == "contact":  # pjsip.conf defines no contacts
            assert "config,pjsip.conf" not in before
        else:
            assert before == f";{kind} = config,pjsip.conf,criteria=type={kind}"

    # Uncommented, each pjsip.conf line comes before the realtime one, in the same section.
    kept = "\n".join(re.sub(r"^;(?=\w+ = config,pjsip\.conf,)", "", line) for line in lines)
    sections, _ = parse(kept)
    assert sections["res_pjsip"][:2] == [
        ("endpoint", "config,pjsip.conf,criteria=type=endpoint"),
        ("endpoint", "realtime,ps_endpoints")]
    assert sections["res_pjsip_outbound_registration"] == [
        ("registration", "config,pjsip.conf,criteria=type=registration"),
        ("registration", "realtime,ps_registrations")]
    # ...and as generated, the mapping is realtime only, like Asterisk's own example.
    sections, _ = parse(text)
    assert as_dict(sections["res_pjsip_endpoint_identifier_ip"]) == {
        "identify": "realtime,ps_endpoint_id_ips"}


def test_extensions_conf_defines_the_context_inbound_carrier_calls_start_in():
    sections, _ = parse(confgen.render_extensions(_spec(inbound_context="from-trunk")))
    amd = sections.pop(confgen.AMD_CONTEXT)  # its own test below
    assert sections == {"agents": [("switch", "Realtime/agents@extensions")],
                        "from-trunk": [("switch", "Realtime/from-trunk@extensions")]}
    assert amd
    # Also a Dialplan context of that name: still one section (the parser refuses a repeat).
    sections, _ = parse(confgen.render_extensions(
        _spec(contexts=("agents", "from-trunk"), inbound_context="from-trunk")))
    assert list(sections) == ["agents", "from-trunk", confgen.AMD_CONTEXT]


def test_the_amd_context_hands_the_verdict_back_to_the_servers_stasis_application():
    sections, _ = parse(confgen.render_extensions(_spec(stasis_app="dialer-eu")))
    assert sections[confgen.AMD_CONTEXT] == [
        ("exten", "s,1,AMD()"),
        ("same", "n,Stasis(dialer-eu,amd,${AMDSTATUS},${AMDCAUSE})"),
        ("same", "n,Hangup()")]
    amd, _ = parse(confgen.render_amd(_spec()))
    # Asterisk's own defaults, spelled out: app_amd does not load without the file.
    assert as_dict(amd["general"])["total_analysis_time"].split(";")[0].strip() == "5000"
    assert "amd.conf" in confgen.render_readme(_spec())


@needs_realtime_db
def test_create_config_gives_carrier_endpoints_a_context_that_exists(tmp_path, server,
                                                                     settings):
    from telephony.models import Carrier

    # Even with no carrier yet, so adding the first one needs no change on the Asterisk host.
    run("--create-config", "--output-dir", str(tmp_path / "none"))
    sections, _ = parse((tmp_path / "none" / "extensions.conf").read_text())
    assert sections["from-trunk"] == [("switch", "Realtime/from-trunk@extensions")]
    assert "create the context 'from-trunk'" in (tmp_path / "none" / "extensions.conf").read_text()

    settings.CARRIER_INBOUND_CONTEXT = "inbound"
    Carrier.objects.create(name="Acme", slug="acme", server=server, host="sip.acme.example",
                           auth_mode=Carrier.AuthMode.IP)
    run("--create-config", "--output-dir", str(tmp_path / "one"))
    sections, _ = parse((tmp_path / "one" / "extensions.conf").read_text())
    context = PsEndpoint.objects.get(id="trunk-acme").context
    assert context == "inbound"
    assert sections[context] == [("switch", "Realtime/inbound@extensions")]
    assert "from-trunk" not in sections


@needs_realtime_db
def test_sync_existing_rewrites_rows_lists_orphans_and_prune_deletes_them(phone):
    from telephony.models import PsContact

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


@needs_realtime_db
def test_prune_needs_sync_existing():
    with pytest.raises(CommandError, match="--prune works together with --sync-existing"):
        run("--prune")


@needs_realtime_db
def test_scaffold_dialplan_flag_writes_the_agents_context(phone):
    from telephony.models import ExtensionsTable

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


@needs_realtime_db
def test_grants_sql_makes_a_user_that_reads_everything_and_writes_only_contacts(
        tmp_path, transactional_db):
    user = f"ast_ro_{os.getpid()}"
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
