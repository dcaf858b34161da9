"""Database constraints and phone normalisation."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError

from calls.models import CallRecord
from companies.models import normalise_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+237 6 77 12 34 56", "+237677123456"),
        ("677 12 34 56", "+237677123456"),
        ("00237677123456", "+237677123456"),
        ("237-677123456", "+237677123456"),
        ("677.12.34.56", "+237677123456"),
        ("12", ""),
        ("", ""),
        ("pas un numéro", ""),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw, expected, settings):
    settings.PHONE_REGION = "CM"
    assert normalise_phone(raw) == expected


def call(company, operator, **fields):
    return CallRecord(company=company, operator=operator, **fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"status_numero": "no_answer", "call_status": "refused"},
        {"status_numero": "answered", "call_status": "refused", "presentation_level": "partial"},
    ],
)
def test_the_database_refuses_inconsistent_outcomes(company, operator, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        call(company, operator, **fields).save()


def test_call_history_protects_the_company_and_the_operator(company, operator):
    call(company, operator, status_numero="invalid").save()
    with pytest.raises(ProtectedError):
        company.delete()
    with pytest.raises(ProtectedError):
        operator.delete()


def test_an_operator_can_hold_only_one_company_in_the_database(make_company, operator):
    from django.utils import timezone

    first, second = make_company(), make_company()
    lease = {"status": "in_progress", "locked_by": operator, "lock_expires_at": timezone.now()}
    type(first).objects.filter(pk=first.pk).update(**lease)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(second).objects.filter(pk=second.pk).update(**lease)
