"""The realtime models and their migrated tables have exactly the columns Asterisk 22 defines.

`telephony/asterisk/realtime_schema.py` is the list (copied from Asterisk's own schema); these tests
fail when a model or the database disagrees with it. They run on SQLite, PostgreSQL and MariaDB.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.forms import modelform_factory

from telephony.asterisk.realtime_schema import (
    AST_BOOL_WRITE_VALUES,
    PS_AORS,
    PS_AUTHS,
    PS_CONTACTS,
    PS_ENDPOINTS,
    REALTIME_FAMILIES,
    TABLES,
)
from telephony.models.realtime import (
    AstBoolField,
    ExtensionsTable,
    PsAor,
    PsAuth,
    PsContact,
    PsDomainAlias,
    PsEndpoint,
    PsEndpointIdIp,
    PsRegistration,
)

MODELS = {
    "ps_endpoints": PsEndpoint,
    "ps_auths": PsAuth,
    "ps_aors": PsAor,
    "ps_contacts": PsContact,
    "ps_endpoint_id_ips": PsEndpointIdIp,
    "ps_registrations": PsRegistration,
    "ps_domain_aliases": PsDomainAlias,
    "extensions_table": ExtensionsTable,
}

# Column kind -> what Field.get_internal_type() may say.
MODEL_TYPES = {
    "varchar": {"CharField"},
    "enum": {"CharField"},
    "text": {"TextField"},
    "integer": {"IntegerField"},
    "bigint": {"BigIntegerField", "BigAutoField"},
    "float": {"FloatField"},
}
# Column kind -> what introspecting the migrated table may say (SQLite reports its 64-bit
# integer primary key as AutoField).
DB_TYPES = {**MODEL_TYPES, "bigint": {"BigIntegerField", "BigAutoField", "AutoField"}}


def fields_by_column(model):
    return {field.column: field for field in model._meta.concrete_fields}


def choice_values(field):
    return tuple(value for value, _label in field.choices or ())


def allowed_values(table, column):
    """What our model should offer for an enum column."""
    if column.enum == "ast_bool_values" and table != "ps_contacts":
        return AST_BOOL_WRITE_VALUES
    # ps_contacts is written by Asterisk, which uses 'false' as well as 'no' there.
    return column.values


def stored_row(table, pk, *columns):
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} WHERE id = %s",
            [pk],
        )
        return cursor.fetchone()


def test_column_counts_are_asterisk_22s():
    assert (len(PS_ENDPOINTS), len(PS_AUTHS), len(PS_AORS), len(PS_CONTACTS)) == (147, 13, 16, 16)


def test_every_family_has_one_table_and_one_model():
    assert [f.family for f in REALTIME_FAMILIES] == [
        "ps_endpoints",
        "ps_auths",
        "ps_aors",
        "ps_contacts",
        "ps_endpoint_id_ips",
        "ps_registrations",
        "ps_domain_aliases",
        "extensions",
    ]
    assert set(TABLES) == set(MODELS)
    assert all(MODELS[table]._meta.db_table == table for table in TABLES)
    assert all(model._meta.managed for model in MODELS.values())


def test_each_pjsip_family_is_mapped_in_sorcery_once_and_the_dialplan_is_not():
    sorcery = [(f.sorcery_module, f.sorcery_object) for f in REALTIME_FAMILIES if f.sorcery_object]
    assert len(sorcery) == len(set(sorcery)) == len(REALTIME_FAMILIES) - 1
    assert all(f.sorcery_module and f.table.startswith("ps_") for f in REALTIME_FAMILIES[:-1])
    assert REALTIME_FAMILIES[-1].table == "extensions_table"


@pytest.mark.parametrize("table", TABLES)
def test_the_model_has_exactly_asterisks_columns(table):
    assert set(fields_by_column(MODELS[table])) == {column.name for column in TABLES[table]}


@pytest.mark.parametrize("table", TABLES)
def test_each_model_field_matches_its_asterisk_column(table):
    fields = fields_by_column(MODELS[table])
    problems = []
    for column in TABLES[table]:
        field = fields[column.name]
        if field.null is column.not_null:
            problems.append(
                f"{column.name}: null={field.null}, Asterisk not_null={column.not_null}"
            )
        if field.get_internal_type() not in MODEL_TYPES[column.kind]:
            problems.append(f"{column.name}: {field.get_internal_type()} for {column.sql_type}")
        if column.kind == "varchar" and field.max_length != column.length:
            problems.append(f"{column.name}: max_length {field.max_length} for {column.sql_type}")
        if column.kind == "enum":
            values = choice_values(field)
            if values != allowed_values(table, column):
                problems.append(f"{column.name}: choices {values} for {column.sql_type}")
            if field.max_length != max(len(value) for value in values):
                problems.append(f"{column.name}: max_length {field.max_length} is not tight")
        elif field.choices:
            problems.append(f"{column.name}: choices on a {column.sql_type} column")
    assert problems == []


def test_yes_no_columns_are_ast_bool_fields_outside_ps_contacts():
    for table, columns in TABLES.items():
        fields = fields_by_column(MODELS[table])
        for column in columns:
            is_yes_no = column.enum == "ast_bool_values" and table != "ps_contacts"
            assert isinstance(fields[column.name], AstBoolField) is is_yes_no, column.name


@pytest.mark.django_db
@pytest.mark.parametrize("table", TABLES)
def test_the_migrated_table_has_exactly_asterisks_columns(table):
    with connection.cursor() as cursor:
        found = {i.name: i for i in connection.introspection.get_table_description(cursor, table)}
    assert set(found) == {column.name for column in TABLES[table]}

    model_fields = fields_by_column(MODELS[table])
    problems = []
    for column in TABLES[table]:
        info = found[column.name]
        if bool(info.null_ok) is column.not_null:
            problems.append(f"{column.name}: nullable={bool(info.null_ok)} in {connection.vendor}")
        db_type = connection.introspection.get_field_type(info.type_code, info)
        if db_type not in DB_TYPES[column.kind]:
            problems.append(f"{column.name}: {db_type} for {column.sql_type}")
        if column.kind == "varchar" and info.display_size != column.length:
            problems.append(f"{column.name}: varchar({info.display_size}) for {column.sql_type}")
        if column.kind == "enum" and info.display_size != model_fields[column.name].max_length:
            problems.append(f"{column.name}: varchar({info.display_size}) for {column.sql_type}")
    assert problems == []


@pytest.mark.django_db
def test_asterisks_contact_prefix_like_is_served_by_an_index():
    if connection.vendor != "postgresql":
        # MySQL/MariaDB and SQLite serve a prefix LIKE from the primary key index itself.
        constraints = connection.introspection.get_constraints(connection.cursor(), "ps_contacts")
        assert any(c["primary_key"] and c["columns"] == ["id"] for c in constraints.values())
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'ps_contacts'")
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute("SET LOCAL enable_seqscan = off")
        # the query Asterisk sends for AOR 1001's contacts
        cursor.execute(
            "EXPLAIN SELECT * FROM ps_contacts WHERE id LIKE %s ORDER BY id", ["1001;@%"]
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert any("(id varchar_pattern_ops)" in indexdef for indexdef in indexes)
    assert "Index Cond" in plan


@pytest.mark.django_db
def test_a_blank_enum_or_text_is_stored_as_null():
    endpoint = PsEndpoint.objects.create(
        id="1001", dtmf_mode="", callerid="", set_var="", direct_media="no"
    )

    assert stored_row("ps_endpoints", "1001", "dtmf_mode", "callerid", "set_var") == (
        None,
        None,
        None,
    )
    assert (endpoint.dtmf_mode, endpoint.callerid, endpoint.set_var) == (None, None, None)
    assert list(PsEndpoint.objects.filter(dtmf_mode="")) == [endpoint]


@pytest.mark.django_db
def test_a_blank_left_in_a_form_is_stored_as_null():
    form_class = modelform_factory(
        PsEndpoint, fields=["id", "dtmf_mode", "direct_media", "callerid", "set_var"]
    )
    form = form_class(
        data={"id": "1002", "dtmf_mode": "", "direct_media": "", "callerid": "", "set_var": ""}
    )

    assert form.is_valid(), form.errors
    form.save()
    assert stored_row(
        "ps_endpoints", "1002", "dtmf_mode", "direct_media", "callerid", "set_var"
    ) == (None, None, None, None)


@pytest.mark.django_db
def test_a_blank_written_by_update_is_stored_as_null():
    PsAuth.objects.create(id="1003", auth_type="userpass", username="1003", password="pw")

    PsAuth.objects.filter(id="1003").update(auth_type="", realm="")

    assert stored_row("ps_auths", "1003", "auth_type", "realm") == (None, None)


@pytest.mark.django_db
def test_yes_no_and_enum_values_round_trip_as_lowercase_strings():
    PsEndpoint.objects.create(id="1004", direct_media="no", rtp_symmetric="yes")
    PsEndpoint.objects.filter(id="1004").update(rel_100="peer_supported")
    PsAor.objects.create(id="1004", max_contacts=1, remove_existing="yes")

    endpoint = PsEndpoint.objects.get(id="1004")
    assert (endpoint.direct_media, endpoint.rtp_symmetric, endpoint.rel_100) == (
        "no",
        "yes",
        "peer_supported",
    )
    assert stored_row("ps_endpoints", "1004", "direct_media", "100rel") == ("no", "peer_supported")
    assert stored_row("ps_aors", "1004", "remove_existing") == ("yes",)


@pytest.mark.parametrize(
    ("field", "value"),
    [("direct_media", "Yes"), ("direct_media", "true"), ("dtmf_mode", "rfc2833")],
)
def test_an_endpoint_rejects_values_we_must_not_write(field, value):
    endpoint = PsEndpoint(id="1005", **{field: value})

    with pytest.raises(ValidationError) as excinfo:
        endpoint.clean_fields()
    assert field in excinfo.value.message_dict


def test_an_auth_rejects_digest_which_asterisks_enum_lacks():
    with pytest.raises(ValidationError):
        PsAuth(id="1006", auth_type="digest").clean_fields()


def test_a_contact_accepts_the_booleans_asterisk_writes():
    PsContact(id="1001^3B@abc", qualify_2xx_only="false", prune_on_boot="no").clean_fields()
