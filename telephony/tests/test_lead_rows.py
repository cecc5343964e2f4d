"""The import's raw batched INSERT writes exactly the rows bulk_create would have written."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from telephony.models import Lead, LeadList
from telephony.services.lead_rows import lead_rows_insert
from telephony.tests.campaign_helpers import running_campaign

pytestmark = pytest.mark.django_db

COMPARED_OUT = {"id", "campaign", "lead_list", "phone_number", "created_at", "updated_at"}


def fields(index: int) -> dict:
    return {"first_name": f"Jürgen {index}", "last_name": "O'Brien; \"x\"",
            "timezone": "America/Phoenix", "timezone_guessed": index % 2 == 0,
            "line_type": "fixed_or_mobile", "source_line": index + 2,
            "data": {"account": f"A-{index}", "note": "ünïcode, 'quotes'"},
            "state": Lead.State.DNC if index == 1 else Lead.State.NEW}


def test_raw_insert_matches_bulk_create_column_for_column():
    campaign = running_campaign("Rows")
    raw_list = LeadList.objects.create(campaign=campaign, name="raw")
    orm_list = LeadList.objects.create(campaign=campaign, name="orm")
    lead_rows_insert([dict(fields(i), campaign_id=campaign.pk, lead_list_id=raw_list.pk,
                           phone_number=f"+1602555{i:04d}") for i in range(3)])
    Lead.objects.bulk_create([Lead(campaign=campaign, lead_list=orm_list,
                                   phone_number=f"+1602666{i:04d}", **fields(i))
                              for i in range(3)])

    def rows(lead_list):
        return [{key: value for key, value in model_to_dict(lead).items()
                 if key not in COMPARED_OUT}
                for lead in Lead.objects.filter(lead_list=lead_list).order_by("source_line")]

    raw, orm = rows(raw_list), rows(orm_list)
    assert len(raw) == 3 and raw == orm
    first = Lead.objects.filter(lead_list=raw_list).order_by("source_line").first()
    assert first.data == {"account": "A-0", "note": "ünïcode, 'quotes'"}
    assert first.recent_attempts == [] and first.attempts == 0
    assert first.created_at is not None and first.created_at == first.updated_at


def test_raw_insert_of_many_rows_splits_statements_under_the_parameter_limit():
    campaign = running_campaign("Many")
    lead_list = LeadList.objects.create(campaign=campaign, name="many")
    lead_rows_insert([dict(fields(i), campaign_id=campaign.pk, lead_list_id=lead_list.pk,
                           phone_number=f"+1602555{i:04d}") for i in range(2500)])
    assert Lead.objects.filter(lead_list=lead_list).count() == 2500
