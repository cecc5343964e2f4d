"""1. The files setup_asterisk_realtime generates load on a real Asterisk 22 and reach the
database: the modules run, ODBC is connected, the transport is there, and --check agrees."""

import io
import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.integration

MODULES = ("res_pjsip.so", "res_odbc.so", "res_config_odbc.so", "pbx_realtime.so",
           "chan_pjsip.so", "res_sorcery_realtime.so")


@pytest.mark.parametrize("module", MODULES)
def test_the_module_the_realtime_setup_needs_is_running(pbx, module):
    out = pbx.cli(f"module show like {module.removesuffix('.so')}")
    line = next((line for line in out.splitlines() if line.startswith(module + " ")), "")
    assert re.search(r"\sRunning\s", line), out


def test_odbc_is_connected_to_the_test_database(pbx):
    out = pbx.cli("odbc show")
    assert re.search(r"^\s*Name:\s*asterisk\s*$", out, re.M), out
    active = re.search(r"Number of active connections:\s*(\d+)", out)
    assert active and int(active.group(1)) >= 1, out


def test_the_generated_transport_is_listed_on_its_loopback_port(pbx):
    out = pbx.cli("pjsip show transports")
    assert re.search(rf"transport-udp\s+udp\s+\d+\s+\d+\s+127\.0\.0\.1:{pbx.sip_port}\b", out), out


def test_the_realtime_switches_of_the_generated_extensions_conf_are_loaded(pbx):
    for context in ("agents", "from-trunk"):
        out = pbx.cli(f"dialplan show {context}")
        assert f"Realtime/{context}@extensions" in out, out


def test_setup_asterisk_realtime_check_passes_on_the_database_asterisk_reads(pbx):
    out = io.StringIO()
    call_command("setup_asterisk_realtime", "--check", stdout=out)
    assert "All checks passed." in out.getvalue()
    assert "[FAIL]" not in out.getvalue()
