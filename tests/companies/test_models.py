"""Companies: phone normalisation and the database constraints of the company table."""

import pytest
from django.db import IntegrityError, transaction

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


def test_an_operator_can_hold_only_one_company_in_the_database(make_company, operator):
    from django.utils import timezone

    first, second = make_company(), make_company()
    lease = {"status": "in_progress", "locked_by": operator, "lock_expires_at": timezone.now()}
    type(first).objects.filter(pk=first.pk).update(**lease)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(second).objects.filter(pk=second.pk).update(**lease)
