"""Every table of the app carries the project's Bootstrap style (DJANGO_TABLES2_TABLE_ATTRS),
including those whose own attributes add an id."""

import pytest

from calls.tables import CallListTable
from companies.tables import CampaignTable, CompanyTable, DoNotCallTable, ImportBatchTable
from quality.tables import QueueTable

STYLE = 'class="table table-sm table-hover align-middle bg-body"'


@pytest.mark.parametrize(
    "table",
    [CallListTable, CampaignTable, CompanyTable, DoNotCallTable, ImportBatchTable, QueueTable],
)
def test_every_table_has_the_project_style(table):
    assert STYLE in table([]).attrs.as_html()
