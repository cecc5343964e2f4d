"""Migration 0011 (issue #12, defect 3): a carrier that stripped the `+` (strip 1, the old
workaround) becomes 'E.164 without +' with one less to strip, so the app's calls reach it as
before. Runs the migration itself, backwards to 0010 and forwards again."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("telephony", "0010_lead_import_byte_offset")]
AFTER = [("telephony", "0011_carrier_number_format")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_strip_one_becomes_e164_without_plus_and_the_dial_strings_stay():
    old = _migrate(BEFORE)
    server = old.get_model("telephony", "AsteriskServer").objects.create(
        name="pbx1", host="pbx.example.com", ami_host="127.0.0.1", ari_host="127.0.0.1")
    carrier = old.get_model("telephony", "Carrier").objects
    for slug, strip in (("none", 0), ("plus", 1), ("more", 3)):
        carrier.create(name=slug, slug=slug, server=server, host="sip.example.com",
                       strip_digits=strip, dial_prefix="00" if slug == "more" else "")

    new = _migrate(AFTER)
    rows = {c.slug: (c.number_format, c.strip_digits)
            for c in new.get_model("telephony", "Carrier").objects.all()}
    assert rows == {"none": ("e164_plus", 0), "plus": ("e164", 0), "more": ("e164", 2)}

    from telephony.asterisk.carrier_numbers import dial_number, number_routes

    # What the app's calls (+E.164) reached before: the number without its first `strip`.
    assert dial_number(number_routes("e164"), "+15551234567") == "15551234567"
    assert dial_number(number_routes("e164", strip=2, prefix="00"),
                       "+15551234567") == "00" + "+15551234567"[3:]
    _migrate(new_leaf())


def new_leaf():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes("telephony")
