"""Dialplan contexts and rules: every change rewrites the context's extensions_table rows in the
same transaction, priorities stay contiguous, bad input is refused with nothing written, and
every page is admin-only. Runs on SQLite, PostgreSQL and MariaDB."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from telephony.asterisk.dialplan_syntax import (
    canonical_application,
    validate_arguments,
    validate_pattern,
)
from telephony.models import DialplanContext, DialplanExtension, ExtensionsTable
from telephony.models.phones import Phone
from telephony.realtime.dialplan import dialplan_orphan_rows, dialplan_preview
from telephony.realtime.sync import dialplan_sync_all, realtime_orphans
from telephony.services.dialplan import (
    DialplanError,
    context_create,
    context_delete,
    context_update,
    extension_create,
    extension_delete,
    extension_move,
    extension_update,
)

pytestmark = pytest.mark.django_db


def table_rows(context="agents"):
    """The rows Asterisk reads for a context, exactly, in (exten, priority) order."""
    return list(ExtensionsTable.objects.filter(context=context).order_by("exten", "priority")
                .values_list("context", "exten", "priority", "app", "appdata"))


def rules(context):
    return list(context.extensions.order_by("order", "priority")
                .values_list("pattern", "priority", "application", "arguments", "order"))


@pytest.fixture
def agents():
    return context_create(name="agents", description="Agents' phones")


@pytest.fixture
def outbound(agents):
    """_X.: NoOp, Dial, Hangup."""
    extension_create(context=agents, pattern="_X.", application="NoOp", arguments="out ${EXTEN}")
    extension_create(context=agents, pattern="_X.", application="Dial",
                     arguments="PJSIP/${EXTEN}@trunk-acme,60")
    extension_create(context=agents, pattern="_X.", application="Hangup")
    return agents


# --- the rows written -------------------------------------------------------------------------

def test_a_new_context_has_no_rows():
    context_create(name="agents")
    assert table_rows() == []


def test_adding_rules_writes_them_with_explicit_priorities_and_empty_appdata(outbound):
    assert table_rows() == [
        ("agents", "_X.", 1, "NoOp", "out ${EXTEN}"),
        ("agents", "_X.", 2, "Dial", "PJSIP/${EXTEN}@trunk-acme,60"),
        ("agents", "_X.", 3, "Hangup", ""),
    ]


def test_inserting_at_a_priority_moves_the_later_steps_down(outbound):
    extension_create(context=outbound, pattern="_X.", application="Answer", priority=2)
    assert table_rows() == [
        ("agents", "_X.", 1, "NoOp", "out ${EXTEN}"),
        ("agents", "_X.", 2, "Answer", ""),
        ("agents", "_X.", 3, "Dial", "PJSIP/${EXTEN}@trunk-acme,60"),
        ("agents", "_X.", 4, "Hangup", ""),
    ]


def test_a_priority_past_the_end_appends(outbound):
    extension_create(context=outbound, pattern="_X.", application="Wait", arguments="1",
                     priority=99)
    assert table_rows()[-1] == ("agents", "_X.", 4, "Wait", "1")


def test_application_names_are_stored_as_asterisk_spells_them(agents):
    extension_create(context=agents, pattern="s", application="background", arguments="welcome")
    assert table_rows() == [("agents", "s", 1, "BackGround", "welcome")]


def test_editing_a_rule_rewrites_its_row(outbound):
    dial = outbound.extensions.get(application="Dial")
    extension_update(extension=dial, pattern="_X.", application="Dial",
                     arguments="PJSIP/${EXTEN}@trunk-acme,45")
    assert table_rows() == [
        ("agents", "_X.", 1, "NoOp", "out ${EXTEN}"),
        ("agents", "_X.", 2, "Dial", "PJSIP/${EXTEN}@trunk-acme,45"),
        ("agents", "_X.", 3, "Hangup", ""),
    ]


def test_editing_the_priority_reorders_the_pattern(outbound):
    hangup = outbound.extensions.get(application="Hangup")
    extension_update(extension=hangup, pattern="_X.", application="Hangup", priority=1)
    assert [row[2:4] for row in table_rows()] == [(1, "Hangup"), (2, "NoOp"), (3, "Dial")]


def test_changing_a_rules_pattern_moves_it_and_closes_the_gap(outbound):
    noop = outbound.extensions.get(application="NoOp")
    extension_update(extension=noop, pattern="_9X.", application="NoOp", arguments="nine")
    assert table_rows() == [
        ("agents", "_9X.", 1, "NoOp", "nine"),
        ("agents", "_X.", 1, "Dial", "PJSIP/${EXTEN}@trunk-acme,60"),
        ("agents", "_X.", 2, "Hangup", ""),
    ]


def test_deleting_a_rule_closes_the_gap(outbound):
    extension_delete(extension=outbound.extensions.get(application="NoOp"))
    assert table_rows() == [
        ("agents", "_X.", 1, "Dial", "PJSIP/${EXTEN}@trunk-acme,60"),
        ("agents", "_X.", 2, "Hangup", ""),
    ]


def test_moving_a_step_up_and_down_swaps_its_priority(outbound):
    dial = outbound.extensions.get(application="Dial")
    extension_move(extension=dial, direction="up")
    assert table_rows() == [
        ("agents", "_X.", 1, "Dial", "PJSIP/${EXTEN}@trunk-acme,60"),
        ("agents", "_X.", 2, "NoOp", "out ${EXTEN}"),
        ("agents", "_X.", 3, "Hangup", ""),
    ]
    extension_move(extension=dial, direction="down")
    extension_move(extension=dial, direction="down")
    assert table_rows() == [
        ("agents", "_X.", 1, "NoOp", "out ${EXTEN}"),
        ("agents", "_X.", 2, "Hangup", ""),
        ("agents", "_X.", 3, "Dial", "PJSIP/${EXTEN}@trunk-acme,60"),
    ]


def test_moving_a_first_step_up_moves_its_pattern_on_the_page_only(outbound):
    extension_create(context=outbound, pattern="h", application="NoOp", arguments="hung up")
    before = table_rows()
    h_step = outbound.extensions.get(pattern="h")
    extension_move(extension=h_step, direction="up")
    assert [r[0] for r in rules(outbound)] == ["h", "_X.", "_X.", "_X."]
    assert [r[4] for r in rules(outbound)] == [1, 2, 2, 2]
    assert table_rows() == before  # Asterisk does not care about the order of patterns


def test_moving_the_top_step_up_changes_nothing(outbound):
    before = table_rows()
    extension_move(extension=outbound.extensions.get(priority=1), direction="up")
    assert table_rows() == before


def test_renaming_a_context_moves_its_rows(outbound):
    context_update(context=outbound, name="sales", description="")
    assert table_rows("agents") == []
    assert [row[:3] for row in table_rows("sales")] == [
        ("sales", "_X.", 1), ("sales", "_X.", 2), ("sales", "_X.", 3)]


def test_deleting_a_context_removes_its_rows_and_leaves_others(outbound):
    ExtensionsTable.objects.create(context="by-hand", exten="s", priority=1, app="Answer")
    other = context_create(name="support")
    extension_create(context=other, pattern="s", application="Answer")
    context_delete(context=outbound)
    assert table_rows("agents") == []
    assert table_rows("support") == [("support", "s", 1, "Answer", "")]
    assert table_rows("by-hand") == [("by-hand", "s", 1, "Answer", "")]


def test_a_context_extensions_use_can_be_neither_deleted_nor_renamed(outbound, server):
    Phone.objects.create(extension="1001", name="Desk", server=server, context="agents")
    with pytest.raises(DialplanError, match="1 extension") as refused:
        context_delete(context=outbound)
    assert refused.value.code == "context_in_use"
    with pytest.raises(DialplanError, match="change their context first") as refused:
        context_update(context=outbound, name="agents2")
    assert refused.value.field == "name"
    assert len(table_rows()) == 3


def test_sync_all_rewrites_rows_edited_behind_the_apps_back(outbound):
    ExtensionsTable.objects.filter(context="agents", priority=2).update(appdata="tampered")
    ExtensionsTable.objects.create(context="agents", exten="_X.", priority=9, app="System",
                                   appdata="rm -rf /")
    assert dialplan_sync_all() == (1, 3)
    assert table_rows()[1] == ("agents", "_X.", 2, "Dial", "PJSIP/${EXTEN}@trunk-acme,60")
    assert len(table_rows()) == 3


def test_owned_and_orphan_rows_are_told_apart(outbound):
    stray = ExtensionsTable.objects.create(context="old", exten="s", priority=1, app="Hangup")
    assert ExtensionsTable.objects.filter(context="agents").count() == 3
    assert list(dialplan_orphan_rows()) == [stray]
    dialplan_orphans = [ident for table, ident in realtime_orphans()
                        if table == "extensions_table"]
    assert dialplan_orphans == ["old,s,1"]


def test_the_preview_is_the_equivalent_extensions_conf(outbound):
    extension_create(context=outbound, pattern="h", application="NoOp", arguments="bye")
    assert dialplan_preview(outbound) == (
        "[agents]\n"
        "; Agents' phones\n"
        "exten => _X.,1,NoOp(out ${EXTEN})\n"
        " same => n,Dial(PJSIP/${EXTEN}@trunk-acme,60)\n"
        " same => n,Hangup()\n"
        "\n"
        "exten => h,1,NoOp(bye)\n"
    )


def test_the_preview_of_an_empty_context_says_so(agents):
    assert "no rules yet" in dialplan_preview(agents)


# --- validation -------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern", [
    "_X.", "_NXXNXXXXXX", "_[1-5]XX", "_1XXX!", "_+X.", "1001", "*97", "#", "+4930123",
    "s", "h", "i", "t", "e", "o", "a", "fax", "T", "_555-XXXX", "_[137]Z.", "start",
])
def test_asterisk_patterns_are_accepted(pattern):
    assert validate_pattern(pattern) == pattern


@pytest.mark.parametrize("pattern, message", [
    ("_X.;", "Not an Asterisk pattern"),
    ("_.", "use _X."),
    ("_X.X", "Not an Asterisk pattern"),
    ("_[5-1]X", "backwards"),
    ("_[]X", "Not an Asterisk pattern"),
    ("1001 ", None),  # trailing space is trimmed, accepted
    ("10 01", "Not an Asterisk extension"),
    ("agents;x", "Not an Asterisk extension"),
    ("_", "Not an Asterisk pattern"),
    ("", "Enter an extension"),
    ("_" + "X" * 40, "at most 40"),
])
def test_malformed_patterns_get_a_clear_error(pattern, message):
    if message is None:
        assert validate_pattern(pattern) == pattern.strip()
        return
    with pytest.raises(ValidationError, match=message):
        validate_pattern(pattern)


@pytest.mark.parametrize("name, message", [
    ("System", "System is not allowed: System runs a shell command"),
    ("TRYSYSTEM", "shell command"),
    ("Exec", "runs any application"),
    ("Macro", "removed in Asterisk 21"),
    ("MeetMe", "ConfBridge"),
    ("Monitor", "MixMonitor"),
    ("FooBar", "not an Asterisk application"),
    ("", "Choose an application"),
])
def test_unknown_or_dangerous_applications_are_refused(name, message):
    with pytest.raises(ValidationError, match=message):
        canonical_application(name)


@pytest.mark.parametrize("application, arguments, message", [
    ("Playback", "hello\nworld", "one line"),
    ("Playback", "hello\rworld", "one line"),
    ("Playback", "a\tb", "control characters"),
    ("NoOp", "a\u0085b", "control characters"),
    ("NoOp", "a\u2028b", "control characters"),
    ("NoOp", "a\u2029b", "control characters"),
    ("Playback", "x" * 257, "at most 256"),
    ("NoOp", "a;b", "';' or '\\^'"),
    ("NoOp", "a^3Bb", "';' or '\\^'"),
    ("Set", "X=${SHELL(id)}", "not a function"),
    ("NoOp", "${shell(id)}", "not a function"),
    # Asterisk substitutes the inner ${...} first, then runs what it spells.
    ("NoOp", "${SH${Z}ELL(id)}", "another"),
    ("NoOp", "${${F}(cmd)}", "another"),
    ("NoOp", "${SH$[1]ELL(id)}", "another"),
    ("Set", "F=SHELL", None),  # harmless alone; the two-step form is refused by the nesting
    ("NoOp", "${F}", "not a variable"),
    ("NoOp", "${FILE(/etc/passwd)}", "not a function"),
    ("NoOp", "${CALLERID(all)}", "not a function"),
    ("NoOp", "${EXTEN:x}", "substring"),
    ("NoOp", "$(id)", "cannot contain '\\$'"),
    ("NoOp", "`id`", "cannot contain '`'"),
    ("NoOp", "unclosed ${EXTEN", "not closed"),
    ("NoOp", "caf\u00e9", "cannot contain"),
    ("Set", "FILE(/var/lib/asterisk/agi-bin/x.sh,,,l)=id", "may assign a variable"),
    ("Set", "SHELL(id)=1", "may assign a variable"),
    ("Set", "DB(a/b)=1", "may assign a variable"),
    ("Set", "ODBC_SQL(x)=1", "may assign a variable"),
    ("Set", "CURL(http://x)=1", "may assign a variable"),
    ("Set", "CALLERID(all)=x", "may assign a variable"),
    ("Set", "1X=1", "Set's name is a variable"),
    ("Set", "X", "NAME=value"),
    ("Set", "AD_X=SHELL(id)", "cannot contain '\\('"),
    ("Set", "AD_X=$[1+1]", "GotoIf condition"),
    ("Set", "AD_X=a,b", "cannot contain ','"),
    ("Set", "DIALSTATUS=${CALLERID(name)}", "cannot assign DIALSTATUS"),
    ("Set", "__AUTODIALER_CALL_ID=x", "cannot assign AUTODIALER_CALL_ID"),
    ("Read", "HANGUPCAUSE,beep", "cannot assign HANGUPCAUSE"),
    ("Dial", "Local/s@ctx,app,System,cmd", "at most 3"),
    ("Dial", "PJSIP/1001,30,U(evil)", "option 'U'"),
    ("Dial", "PJSIP/1001,30,G(ctx)", "option 'G'"),
    ("Dial", "DAHDI/1", "dial PJSIP"),
    ("Dial", "PJSIP/1001,thirty", "is a number"),
    ("GotoIf", "$[SHELL(id)]?1", "cannot call a function"),
    ("GotoIf", "$[${CALLERID(name)}]?1", "only"),
    ("GotoIf", "$[${EXTEN} = 1]?1", "never text the caller sent"),
    ("GotoIf", "$[${AD_X} = 1]?1", "never text the caller sent"),
    ("GotoIf", "$[ ${DIALSTATUS} ]?${AD_X}(id)", "cannot contain '\\('"),
    ("GotoIf", "no question mark", "condition\\?destination"),
    ("GotoIf", "1?a,b,c,d", "written \\$\\["),
    ("GotoIf", "$[1]?a,b,c,d", "a destination is"),
    ("Goto", "ctx,s,1,extra", "a destination is"),
    ("MixMonitor", "/var/lib/asterisk/agi-bin/x.sh", "no leading '/'"),
    ("MixMonitor", "../../agi-bin/x.sh", "no leading '/'"),
    ("MixMonitor", "call.wav,b,/usr/bin/curl x", "at most 2"),
    ("MixMonitor", "call.wav,r(/tmp/x)", "option 'r'"),
    ("Queue", "sales,t,,,30,/usr/bin/evil", "at most 5"),
    ("Queue", "sales,t,http://x", "left empty"),
    ("Playback", "../../../etc/passwd", "no '..'"),
    ("Hangup", "16,17", "at most 1"),
])
def test_dangerous_or_unstorable_arguments_are_refused(application, arguments, message):
    if message is None:
        assert validate_arguments(arguments, application) == arguments
        return
    with pytest.raises(ValidationError, match=message):
        validate_arguments(arguments, application)


@pytest.mark.parametrize("name", [
    "Originate", "ExecIf", "AGI", "EAGI", "Gosub", "GosubIf", "Exec", "TryExec", "System",
    "Eval", "Stasis", "Record", "Macro",
])
def test_applications_outside_the_allowlist_are_refused(name):
    with pytest.raises(ValidationError) as caught:
        canonical_application(name)
    assert caught.value.code in ("application_refused", "application")


@pytest.mark.parametrize("application, arguments", [
    ("Dial", "PJSIP/${EXTEN},30"),
    ("Dial", "PJSIP/00${EXTEN:1}@trunk-acme,60,tT"),
    ("Dial", "PJSIP/1001&PJSIP/1002,20,m(default)"),
    ("Dial", "Local/1001@agents/n,30"),
    ("MixMonitor", "${UNIQUEID}.wav,b"),
    ("MixMonitor", "calls/${UNIQUEID}.wav,bv(2)"),
    ("GotoIf", "$[${GROUP_COUNT(trunk-a@carriers)} > 2]?carriersfull,1"),
    ("GotoIf", "$[\"${DIALSTATUS}\" = \"BUSY\"]?busy,1:other,1"),
    ("GotoIf", "$[(${HANGUPCAUSE} = 17) | (${DIALSTATUS} = CONGESTION)]?5"),
    ("GotoIf", '$["${AUTODIALER_CALL_ID}" != ""]?+3'),
    ("GotoIfTime", "08:00-17:00,mon-fri,*,*?open,1"),
    ("Goto", "from-trunk,s,1"),
    ("Set", "CALLERID(num)=+15551230000"),
    ("Set", "GROUP(carriers)=trunk-acme"),
    ("Set", "__AD_LANG=en"),
    ("Set", "AD_WHO=${CALLERID(num)}"),
    ("Set", "PJSIP_HEADER(add,X-Campaign)=spring"),
    ("NoOp", "out ${EXTEN} from ${CALLERID(name)} on ${CHANNEL(name)} ${AUTODIALER_CALL_ID}"),
    ("Playback", "custom/welcome&vm-goodbye,noanswer"),
    ("Queue", "sales,t,,queue-welcome,300"),
    ("VoiceMail", "1001@default,u"),
    ("ConfBridge", "room1"),
    ("Answer", ""),
    ("Hangup", ""),
    ("Congestion", "5"),
    ("Playback", "x" * 256),
])
def test_ordinary_arguments_pass(application, arguments):
    assert validate_arguments(arguments, application) == arguments


def test_services_refuse_bad_rules_and_write_nothing(agents):
    with pytest.raises(ValidationError):
        extension_create(context=agents, pattern="_X.", application="System", arguments="id")
    with pytest.raises(ValidationError):
        context_create(name="agents;x")
    assert DialplanExtension.objects.count() == 0
    assert ExtensionsTable.objects.count() == 0


# --- the pages --------------------------------------------------------------------------------

def test_admin_builds_a_context_through_the_pages(admin_client):
    response = admin_client.post(reverse("telephony:dialplan_context_create"),
                                 {"name": "agents", "description": "phones"})
    context = DialplanContext.objects.get(name="agents")
    assert response.status_code == 302
    assert response.url == reverse("telephony:dialplan_context_detail", args=[context.pk])
    url = reverse("telephony:dialplan_rule_create", args=[context.pk])
    admin_client.post(url, {"pattern": "_X.", "application": "dial",
                            "arguments": "PJSIP/${EXTEN}@trunk-acme,60"})
    admin_client.post(url, {"pattern": "_X.", "application": "Hangup", "arguments": ""})
    admin_client.post(url, {"pattern": "_X.", "application": "NoOp", "arguments": "first",
                            "priority": "1"})
    assert table_rows() == [
        ("agents", "_X.", 1, "NoOp", "first"),
        ("agents", "_X.", 2, "Dial", "PJSIP/${EXTEN}@trunk-acme,60"),
        ("agents", "_X.", 3, "Hangup", ""),
    ]
    noop = context.extensions.get(application="NoOp")
    admin_client.post(reverse("telephony:dialplan_rule_move", args=[noop.pk, "down"]))
    assert [r[2:4] for r in table_rows()] == [(1, "Dial"), (2, "NoOp"), (3, "Hangup")]
    admin_client.post(reverse("telephony:dialplan_rule_edit", args=[noop.pk]),
                      {"pattern": "_X.", "priority": "2", "application": "NoOp",
                       "arguments": "second"})
    assert table_rows()[1] == ("agents", "_X.", 2, "NoOp", "second")
    admin_client.post(reverse("telephony:dialplan_rule_delete", args=[noop.pk]))
    assert [r[2:4] for r in table_rows()] == [(1, "Dial"), (2, "Hangup")]
    page = admin_client.get(reverse("telephony:dialplan_context_detail", args=[context.pk]))
    assert "exten =&gt; _X.,1,Dial(PJSIP/${EXTEN}@trunk-acme,60)" in page.content.decode()
    assert "switch =&gt; Realtime/agents@extensions" in page.content.decode()
    admin_client.post(reverse("telephony:dialplan_context_delete", args=[context.pk]))
    assert ExtensionsTable.objects.count() == 0


@pytest.mark.parametrize("name", ["agents;x", "agents x", "", "a" * 41])
def test_a_bad_context_name_is_refused_and_nothing_written(admin_client, name):
    response = admin_client.post(reverse("telephony:dialplan_context_create"), {"name": name})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert DialplanContext.objects.count() == 0


def test_a_context_name_differing_only_in_case_is_refused(admin_client, agents):
    response = admin_client.post(reverse("telephony:dialplan_context_create"), {"name": "Agents"})
    assert "already a context named agents" in response.context["form"].errors["name"][0]


@pytest.mark.parametrize("data, field, message", [
    ({"pattern": "_X.", "application": "System", "arguments": "id"}, "application",
     "System is not allowed"),
    ({"pattern": "_X.", "application": "Playback", "arguments": "a\nb"}, "arguments",
     "one line"),
    ({"pattern": "_X.;", "application": "Hangup"}, "pattern", "Not an Asterisk pattern"),
    ({"pattern": "_X.", "application": "Hangup", "priority": "0"}, "priority", "greater"),
])
def test_a_bad_rule_is_refused_with_a_clear_error_and_nothing_written(admin_client, outbound,
                                                                     data, field, message):
    before = table_rows()
    response = admin_client.post(reverse("telephony:dialplan_rule_create", args=[outbound.pk]),
                                 data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert message in response.content.decode().replace("&#x27;", "'")
    assert table_rows() == before
    assert outbound.extensions.count() == 3


def test_deleting_a_context_phones_use_shows_why_not(admin_client, outbound, server):
    Phone.objects.create(extension="1001", name="Desk", server=server)
    response = admin_client.post(reverse("telephony:dialplan_context_delete",
                                         args=[outbound.pk]), follow=True)
    assert "change their context first" in response.content.decode()
    assert DialplanContext.objects.filter(pk=outbound.pk).exists()
    assert len(table_rows()) == 3


def test_the_context_list_query_count_does_not_grow_with_contexts(admin_client):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(reverse("telephony:dialplan_list")).status_code == 200
        return len(queries)

    context_create(name="one")
    first = count()
    for name in ("two", "three", "four"):
        extension_create(context=context_create(name=name), pattern="s", application="Answer")
    assert count() == first


# --- permissions ------------------------------------------------------------------------------

def _urls(context, rule):
    return [
        ("get", reverse("telephony:dialplan_list")),
        ("get", reverse("telephony:dialplan_context_create")),
        ("get", reverse("telephony:dialplan_context_detail", args=[context.pk])),
        ("get", reverse("telephony:dialplan_context_edit", args=[context.pk])),
        ("get", reverse("telephony:dialplan_context_delete", args=[context.pk])),
        ("get", reverse("telephony:dialplan_rule_create", args=[context.pk])),
        ("get", reverse("telephony:dialplan_rule_edit", args=[rule.pk])),
        ("post", reverse("telephony:dialplan_rule_move", args=[rule.pk, "down"])),
        ("post", reverse("telephony:dialplan_rule_delete", args=[rule.pk])),
        ("post", reverse("telephony:dialplan_context_delete", args=[context.pk])),
        ("post", reverse("telephony:dialplan_scaffold")),
    ]


def test_anonymous_visitors_are_sent_to_log_in(client, outbound):
    for method, url in _urls(outbound, outbound.extensions.first()):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("users:login")), url
    assert len(table_rows()) == 3


def test_agents_and_supervisors_are_refused(agent_client, supervisor_client, outbound):
    for http in (agent_client, supervisor_client):
        for method, url in _urls(outbound, outbound.extensions.first()):
            assert getattr(http, method)(url).status_code == 403, url
    assert len(table_rows()) == 3


def test_admins_may_use_every_page(admin_client, outbound):
    for method, url in _urls(outbound, outbound.extensions.first()):
        response = getattr(admin_client, method)(url)
        assert response.status_code == (200 if method == "get" else 302), url


def test_move_only_accepts_post(admin_client, outbound):
    rule = outbound.extensions.first()
    url = reverse("telephony:dialplan_rule_move", args=[rule.pk, "up"])
    assert admin_client.get(url).status_code == 405


def test_the_django_admin_deletes_contexts_with_their_rows(outbound, django_user_model):
    from django.test import Client

    root = django_user_model.objects.create_superuser("root", password="pw-root-123")
    http = Client()
    http.force_login(root)
    change = reverse("admin:telephony_dialplancontext_change", args=[outbound.pk])
    assert http.get(change).status_code == 200
    http.post(reverse("admin:telephony_dialplancontext_changelist"),
              {"action": "delete_selected", "_selected_action": [outbound.pk], "post": "yes"})
    assert DialplanContext.objects.count() == 0
    assert ExtensionsTable.objects.count() == 0


def test_deleting_a_rule_in_the_django_admin_renumbers_and_rewrites_the_table(
        outbound, django_user_model):
    from django.test import Client

    root = django_user_model.objects.create_superuser("root", password="pw-root-123")
    http = Client()
    http.force_login(root)
    noop = outbound.extensions.get(application="NoOp")
    http.post(reverse("admin:telephony_dialplanextension_changelist"),
              {"action": "delete_selected", "_selected_action": [noop.pk], "post": "yes"})
    assert table_rows() == [
        ("agents", "_X.", 1, "Dial", "PJSIP/${EXTEN}@trunk-acme,60"),
        ("agents", "_X.", 2, "Hangup", ""),
    ]
