"""The one-click default `agents` context: internal calls by extension length, everything else
out through the first active carrier; re-running replaces only scaffolded rules. Reads back the
exact extensions_table rows. Runs on SQLite, PostgreSQL and MariaDB."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from telephony.models import DialplanContext, ExtensionsTable
from telephony.models.phones import Phone
from telephony.services.carriers import carrier_create, carrier_update
from telephony.services.dialplan import (
    dialplan_scaffold_agents,
    extension_create,
    extension_update,
    internal_patterns,
)

pytestmark = pytest.mark.django_db

INTERNAL_1XXX = [
    ("_1XXX", 1, "Dial", "PJSIP/${EXTEN},30"),
    ("_1XXX", 2, "Hangup", ""),
]


def table_rows():
    return list(ExtensionsTable.objects.filter(context="agents").order_by("exten", "priority")
                .values_list("exten", "priority", "app", "appdata"))


def outbound(pattern, steps):
    return [(pattern, priority, app, data) for priority, (app, data) in enumerate(steps, 1)]


def make_carrier(server, **overrides):
    values = dict(name="Acme", slug="acme", server=server, host="sip.acme.example",
                  auth_mode="ip", order=0, is_active=True)
    values.update(overrides)
    return carrier_create(**values)


def test_internal_patterns_follow_the_lengths_and_leading_digits_in_use():
    assert internal_patterns([]) == ["_1XXX"]
    assert internal_patterns(["1001", "1002", "2001", "301"]) == ["_3XX", "_[12]XXX"]
    assert internal_patterns([str(d) + "00" for d in range(10)]) == ["_XXX"]
    assert internal_patterns(["10001", "1001"]) == ["_1XXX", "_1XXXX"]


def test_with_no_phones_and_no_carrier_only_internal_calls_are_scaffolded():
    result = dialplan_scaffold_agents()
    assert result.created_context
    assert result.carrier is None
    assert table_rows() == INTERNAL_1XXX
    assert any("No active carrier" in text for text in result.messages)
    assert DialplanContext.objects.get(name="agents").extensions.filter(
        scaffolded=True).count() == 2


def dial(number):
    return [("Dial", f"PJSIP/{number}@trunk-acme,60"), ("Hangup", "")]


def test_a_plain_carrier_gets_every_number_in_e164_with_plus(server):
    Phone.objects.create(extension="1001", name="Desk", server=server)
    make_carrier(server)
    result = dialplan_scaffold_agents()
    # Issue #12: a number dialled without + gets it added, rather than going out as dialled.
    assert table_rows() == (outbound("_+X.", dial("${EXTEN}")) + INTERNAL_1XXX
                            + outbound("_X.", dial("+${EXTEN}")))
    assert result.outbound_patterns == ["_+X.", "_X."]
    assert "trunk-acme" in str(result)


def test_a_carrier_without_plus_gets_it_dropped_and_nothing_else(server):
    make_carrier(server, number_format="e164")
    dialplan_scaffold_agents()
    assert table_rows() == (outbound("_+X.", dial("${EXTEN:1}")) + INTERNAL_1XXX
                            + outbound("_X.", dial("${EXTEN}")))


def test_a_national_carrier_gets_national_and_international_numbers_in_its_format(server):
    make_carrier(server, number_format="national", country_code="44", national_prefix="0",
                 international_prefix="00")
    dialplan_scaffold_agents()
    assert sorted(table_rows()) == sorted(
        outbound("_+44X.", dial("0${EXTEN:3}")) + outbound("_+X.", dial("00${EXTEN:1}"))
        + outbound("_44X.", dial("0${EXTEN:2}")) + outbound("_0X.", dial("${EXTEN}"))
        + outbound("_X.", dial("00${EXTEN}")) + INTERNAL_1XXX)


def test_the_national_format_needs_a_country_code(server):
    with pytest.raises(ValidationError) as error:
        make_carrier(server, number_format="national")
    assert "country_code" in error.value.message_dict


def test_prefix_strip_caller_id_and_channel_limit_are_applied(server):
    Phone.objects.create(extension="201", name="Desk", server=server)
    Phone.objects.create(extension="1001", name="Desk", server=server)
    make_carrier(server, dial_prefix="00", strip_digits=1, caller_id_number="+15551230000",
                 max_channels=5)
    dialplan_scaffold_agents()
    steps = [
        ("Set", "CALLERID(num)=+15551230000"),
        ("Set", "GROUP(carriers)=trunk-acme"),
        # No ExecIf (it runs any application named in it): a jump to an extension of its own.
        ("GotoIf", "$[${GROUP_COUNT(trunk-acme@carriers)} > 5]?carriersfull,1"),
    ]
    # Strip and prefix act on the number in the carrier's format (E.164 with +): the `+` is
    # the character stripped, whether it was dialled or added.
    # Sorted here: PostgreSQL's collation may put carriersfull before the '_' patterns.
    assert sorted(table_rows()) == sorted(
        outbound("_+X.", steps + dial("00${EXTEN:1}")) + INTERNAL_1XXX
        + [("_2XX", 1, "Dial", "PJSIP/${EXTEN},30"), ("_2XX", 2, "Hangup", "")]
        + outbound("_X.", steps + dial("00${EXTEN}"))
        + [("carriersfull", 1, "Congestion", "5"), ("carriersfull", 2, "Hangup", "")])


def test_softphone_calls_get_the_servers_default_caller_id(server):
    server.default_caller_id = "+15550100200"
    server.save()
    Phone.objects.create(extension="1001", name="Desk", server=server)
    make_carrier(server)
    dialplan_scaffold_agents()
    # Only calls the app did not place (no AUTODIALER_CALL_ID): those already carry it.
    steps = [
        # No ExecIf: app-placed calls jump over the two Sets (Goto's relative "+3").
        ("GotoIf", '$["${AUTODIALER_CALL_ID}" != ""]?+3'),
        ("Set", "CALLERID(num)=+15550100200"),
        ("Set", "CALLERID(name)="),
    ]
    assert table_rows() == (outbound("_+X.", steps + dial("${EXTEN}")) + INTERNAL_1XXX
                            + outbound("_X.", steps + dial("+${EXTEN}")))


def test_running_it_twice_writes_the_same_rows(server):
    Phone.objects.create(extension="1001", name="Desk", server=server)
    make_carrier(server)
    first = dialplan_scaffold_agents()
    rows = table_rows()
    second = dialplan_scaffold_agents()
    assert table_rows() == rows
    assert not second.created_context
    assert second.rules_removed == first.rules_written == 6
    assert DialplanContext.objects.get().extensions.count() == 6


def test_rerunning_follows_the_carrier_and_phones_as_they_change(server):
    carrier = make_carrier(server)
    dialplan_scaffold_agents()
    carrier_update(carrier=carrier, dial_prefix="9")
    Phone.objects.create(extension="501", name="Desk", server=server)
    dialplan_scaffold_agents()
    rows = table_rows()
    assert ("_X.", 1, "Dial", "PJSIP/9+${EXTEN}@trunk-acme,60") in rows
    assert ("_5XX", 1, "Dial", "PJSIP/${EXTEN},30") in rows
    assert not any(row[0] == "_1XXX" for row in rows)  # the default went with real phones
    carrier_update(carrier=carrier, is_active=False)
    result = dialplan_scaffold_agents()
    assert table_rows() == [("_5XX", 1, "Dial", "PJSIP/${EXTEN},30"), ("_5XX", 2, "Hangup", "")]
    assert "No active carrier" in str(result)


def test_the_first_active_carrier_by_order_then_name_is_used(server):
    make_carrier(server, name="Zeta", slug="zeta", order=1)
    make_carrier(server, name="Beta", slug="beta", order=1)
    make_carrier(server, name="Alpha", slug="alpha", order=0, is_active=False)
    assert dialplan_scaffold_agents().carrier.slug == "beta"
    assert ("_X.", 1, "Dial", "PJSIP/+${EXTEN}@trunk-beta,60") in table_rows()


def test_rules_an_admin_added_are_never_touched(server):
    make_carrier(server)
    context = dialplan_scaffold_agents().context
    extension_create(context=context, pattern="*97", application="VoiceMailMain")
    extension_create(context=context, pattern="_X.", application="NoOp", arguments="mine",
                     priority=1)  # the admin now owns _X.
    result = dialplan_scaffold_agents()
    assert result.skipped_patterns == ["_X."]
    assert "Left alone" in str(result)
    rows = table_rows()
    assert ("*97", 1, "VoiceMailMain", "") in rows
    assert [row for row in rows if row[0] == "_X."] == [
        ("_X.", 1, "NoOp", "mine"),
        ("_X.", 2, "Dial", "PJSIP/+${EXTEN}@trunk-acme,60"),
        ("_X.", 3, "Hangup", ""),
    ]
    assert [row for row in rows if row[0] == "_+X."] == [
        ("_+X.", 1, "Dial", "PJSIP/${EXTEN}@trunk-acme,60"),
        ("_+X.", 2, "Hangup", ""),
    ]
    second = table_rows()
    dialplan_scaffold_agents()
    assert table_rows() == second


def test_an_edited_scaffolded_rule_is_replaced_on_the_next_run():
    context = dialplan_scaffold_agents().context
    dial = context.extensions.get(application="Dial")
    extension_update(extension=dial, pattern="_1XXX", application="Dial",
                     arguments="PJSIP/${EXTEN},10")
    assert table_rows()[0] == ("_1XXX", 1, "Dial", "PJSIP/${EXTEN},10")
    dialplan_scaffold_agents()
    assert table_rows() == INTERNAL_1XXX


def test_scaffolded_patterns_come_first_on_the_page(server):
    context = DialplanContext.objects.create(name="agents")
    extension_create(context=context, pattern="s", application="Answer")
    dialplan_scaffold_agents()
    patterns = list(context.extensions.order_by("order", "priority")
                    .values_list("pattern", flat=True))
    assert patterns == ["_1XXX", "_1XXX", "s"]


def test_the_button_scaffolds_and_says_what_it_did(admin_client):
    response = admin_client.post(reverse("telephony:dialplan_scaffold"), follow=True)
    context = DialplanContext.objects.get(name="agents")
    assert response.redirect_chain[-1][0] == reverse("telephony:dialplan_context_detail",
                                                     args=[context.pk])
    html = response.content.decode()
    assert "No active carrier" in html
    assert "exten =&gt; _1XXX,1,Dial(PJSIP/${EXTEN},30)" in html
    assert table_rows() == INTERNAL_1XXX


def test_the_button_is_on_the_dialplan_page(admin_client):
    html = admin_client.get(reverse("telephony:dialplan_list")).content.decode()
    assert f'href="{reverse("telephony:dialplan_scaffold")}"' in html
    # The link leads to the one confirmation pattern: a page that posts, shown busy.
    confirm = admin_client.get(reverse("telephony:dialplan_scaffold")).content.decode()
    assert "Write the default agents context?" in confirm and 'data-busy="Working…"' in confirm


def test_only_admins_may_scaffold_and_only_by_a_confirmed_post(client, agent_client,
                                                               supervisor_client, admin_client):
    url = reverse("telephony:dialplan_scaffold")
    assert client.post(url).url.startswith(reverse("users:login"))
    assert agent_client.post(url).status_code == 403
    assert supervisor_client.post(url).status_code == 403
    assert admin_client.get(url).status_code == 200  # the confirmation page writes nothing
    assert ExtensionsTable.objects.count() == 0
    assert admin_client.post(url).status_code == 302
    assert table_rows() == INTERNAL_1XXX
