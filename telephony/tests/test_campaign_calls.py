"""A campaign's manual calls leave through the campaign's carrier, read from the dialplan rows
Asterisk runs, and are linked to the campaign's lead with that number."""

from __future__ import annotations

import pytest

from telephony.models import Call, Carrier, ExtensionsTable
from telephony.realtime.carriers import carrier_object_id
from telephony.tests.call_fixtures import *  # noqa: F403
from telephony.tests.call_fixtures import post_json
from telephony.tests.campaign_helpers import lead_for, running_campaign

pytestmark = pytest.mark.django_db


def carrier(server, slug: str, **fields) -> Carrier:
    return Carrier.objects.create(name=slug.title(), slug=slug, server=server,
                                  host=f"sip.{slug}.example", auth_mode="ip", **fields)


def dialled_trunk(context: str, exten: str) -> str:
    """The trunk the Dial() step of `context` sends `exten` to: what Asterisk would run, read
    from extensions_table (the pattern `_+X.` matches every E.164 number)."""
    assert exten.startswith("+")
    dial = ExtensionsTable.objects.get(context=context, exten="_+X.", app="Dial")
    return dial.appdata.split("@", 1)[1].split(",", 1)[0]


def test_a_campaign_call_leaves_through_the_campaigns_carrier(agent_client, agent, agent_phone,
                                                              server, fake_ami):
    carrier(server, "first", order=0)  # the agents' own context would use this one
    chosen = carrier(server, "second", order=1, dial_prefix="9")
    campaign = running_campaign("Spring", agents=[agent], carrier=chosen)

    response = post_json(agent_client, "call_originate",
                         {"phone_number": "+12125550100", "campaign_id": campaign.pk})

    assert response.status_code == 201
    originate = fake_ami.actions_named("Originate")[0]
    assert originate["Channel"] == f"PJSIP/{agent_phone.extension}"
    assert originate["Exten"] == "+12125550100"
    assert dialled_trunk(originate["Context"], originate["Exten"]) == carrier_object_id("second")
    dial = ExtensionsTable.objects.get(context=originate["Context"], exten="_+X.", app="Dial")
    assert dial.appdata.startswith("PJSIP/9${EXTEN}@")


def test_changing_the_carrier_changes_the_trunk_of_the_next_call(agent_client, agent,
                                                                 agent_phone, server, fake_ami):
    first, second = carrier(server, "first"), carrier(server, "second")
    campaign = running_campaign("Spring", agents=[agent], carrier=first)
    post_json(agent_client, "call_originate",
              {"phone_number": "+12125550100", "campaign_id": campaign.pk})
    Call.objects.update(status=Call.Status.COMPLETED)
    campaign.carrier = second
    campaign.save()

    post_json(agent_client, "call_originate",
              {"phone_number": "+12125550101", "campaign_id": campaign.pk})

    trunks = [dialled_trunk(action["Context"], action["Exten"])
              for action in fake_ami.actions_named("Originate")]
    assert trunks == [carrier_object_id("first"), carrier_object_id("second")]


def test_without_a_carrier_or_for_an_extension_the_phones_context_is_used(
        agent_client, agent, agent_phone, other_phone, server, fake_ami):
    campaign = running_campaign("Spring", agents=[agent], carrier=carrier(server, "acme"))
    plain = running_campaign("Plain", agents=[agent])

    post_json(agent_client, "call_originate",
              {"phone_number": other_phone.extension, "campaign_id": campaign.pk})
    Call.objects.update(status=Call.Status.COMPLETED)
    post_json(agent_client, "call_originate",
              {"phone_number": "+12125550100", "campaign_id": plain.pk})

    contexts = [action["Context"] for action in fake_ami.actions_named("Originate")]
    assert contexts == [agent_phone.context, agent_phone.context]


def test_a_switched_off_carrier_is_refused_before_dialling(agent_client, agent, agent_phone,
                                                           server, fake_ami):
    campaign = running_campaign("Spring", agents=[agent],
                                carrier=carrier(server, "acme", is_active=False))

    response = post_json(agent_client, "call_originate",
                         {"phone_number": "+12125550100", "campaign_id": campaign.pk})

    assert response.status_code == 409 and response.json()["code"] == "carrier_inactive"
    assert fake_ami.actions_named("Originate") == []


def test_a_manual_call_to_a_leads_number_is_linked_to_the_lead(agent_client, agent,
                                                               agent_phone, fake_ami):
    campaign = running_campaign("Spring", agents=[agent])
    lead = lead_for(campaign, "+12125550100")

    post_json(agent_client, "call_originate",
              {"phone_number": "(212) 555-0100", "campaign_id": campaign.pk})

    assert Call.objects.get().lead == lead
