"""Migration 0017: the disposition history takes the system's NODISPO (a nullable disposition,
a system code, a check constraint that exactly one is set). Existing entries stay the agents'
own; backwards, the system's entries go (the ledger keeps NODISPO) and the column is NOT NULL
again. Runs the migration itself, forwards and backwards."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("telephony", "0016_campaign_carriers_per_server")]
AFTER = [("telephony", "0017_dispo_required_nodispo_history")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_entries_stay_the_agents_and_the_way_back_drops_the_systems():
    old = _migrate(BEFORE)
    campaign = old.get_model("telephony", "Campaign").objects.create(name="Spring")
    sale = old.get_model("telephony", "Disposition").objects.create(campaign=campaign,
                                                                    name="Sale")
    old.get_model("telephony", "CallDisposition").objects.create(disposition=sale,
                                                                 campaign=campaign)

    new = _migrate(AFTER)
    history = new.get_model("telephony", "CallDisposition").objects
    assert list(history.values_list("disposition_id", "system_code")) == [(sale.pk, "")]
    assert new.get_model("telephony", "Campaign").objects.get().disposition_required is False
    history.create(system_code="NODISPO", campaign_id=campaign.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        history.create(campaign_id=campaign.pk)  # neither: the constraint refuses it

    back = _migrate(BEFORE)
    rows = back.get_model("telephony", "CallDisposition").objects.values_list(
        "disposition_id", flat=True)
    assert list(rows) == [sale.pk]
    _migrate(new_leaf())


def new_leaf():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes("telephony")
