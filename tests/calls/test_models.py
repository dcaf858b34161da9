"""The database constraints of calls: consistent outcomes, history never deleted."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError

from tests.factories import CallFactory


@pytest.mark.parametrize(
    "fields",
    [
        {"status_numero": "no_answer", "call_status": "refused"},
        {"status_numero": "answered", "call_status": "refused", "presentation_level": "partial"},
    ],
)
def test_the_database_refuses_inconsistent_outcomes(company, operator, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        CallFactory(company=company, operator=operator, **fields)


def test_call_history_protects_the_company_and_the_operator(company, operator):
    CallFactory(company=company, operator=operator, outcome="invalid")
    with pytest.raises(ProtectedError):
        company.delete()
    with pytest.raises(ProtectedError):
        operator.delete()
