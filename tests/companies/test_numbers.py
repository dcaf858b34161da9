"""A company's numbers: merged without duplicates, main number first, dead or alive by the
outcome of the last call that used each."""

import pytest
from django.db import IntegrityError, transaction

from companies.models import MAX_NUMBERS, Company, CompanyPhone, PhoneLabel, merge_numbers


def numbers_of(company) -> list[tuple[int, str, str, str]]:
    return list(company.phones.values_list("position", "label", "number", "e164"))


def test_a_new_company_gets_its_main_number_first(make_company):
    company = make_company(phone="6 77 00 12 34")
    assert numbers_of(company) == [(0, "standard", "6 77 00 12 34", "+237677001234")]


def test_merging_adds_new_numbers_in_order_and_skips_the_known_ones(make_company):
    company = make_company(phone="677001234")
    added = company.merge_numbers(
        [
            ("+237 6 77 00 12 34", PhoneLabel.MOBILE),  # the main number, written otherwise
            ("699 11 22 33", PhoneLabel.MOBILE),
            ("00237 699112233", PhoneLabel.OTHER),  # the same mobile again
            ("  ", PhoneLabel.OTHER),  # blank
            ("12", PhoneLabel.OTHER),  # not recognised: kept as typed, once
            ("12", PhoneLabel.OTHER),
        ]
    )
    assert added == 2
    assert numbers_of(company) == [
        (0, "standard", "677001234", "+237677001234"),
        (1, "mobile", "699 11 22 33", "+237699112233"),
        (2, "other", "12", ""),
    ]
    assert company.merge_numbers([("699112233", PhoneLabel.MOBILE)]) == 0


def test_merging_many_companies_at_once_keeps_each_list_apart(
    campaign, django_assert_max_num_queries
):
    companies = Company.objects.bulk_create(
        [Company(campaign=campaign, name=f"C{n}", phone=f"6770000{n:02d}") for n in range(30)]
    )
    triples = [(c.pk, c.phone, PhoneLabel.STANDARD) for c in companies]
    triples += [(c.pk, f"6990000{n:02d}", PhoneLabel.MOBILE) for n, c in enumerate(companies)]
    with django_assert_max_num_queries(3):
        assert merge_numbers(triples) == 60
    assert [n[2] for n in numbers_of(companies[7])] == ["677000007", "699000007"]


def test_a_company_has_at_most_max_numbers(make_company):
    company = make_company(phone="677000000")
    company.merge_numbers([(f"69900{n:04d}", PhoneLabel.MOBILE) for n in range(MAX_NUMBERS + 5)])
    assert company.phones.count() == MAX_NUMBERS


def test_the_database_refuses_the_same_number_twice_for_a_company(make_company):
    company = make_company(phone="677001234")
    with pytest.raises(IntegrityError), transaction.atomic():
        CompanyPhone.objects.create(company=company, position=1, number="x", e164="+237677001234")
    other = make_company(phone="699001234")
    CompanyPhone.objects.create(company=other, position=1, number="x", e164="+237677001234")


@pytest.mark.parametrize(
    ("disposition", "dead"),
    [("4.30", True), ("3.13", False), ("3.14", False), ("1.1", False), ("2.21", False)],
)
def test_the_last_outcome_says_whether_a_number_is_dead(make_company, disposition, dead):
    number = make_company().phones.get()
    number.is_dead = not dead
    number.save()
    number.record_call(disposition, number.created_at)
    number.refresh_from_db()
    assert (number.is_dead, number.last_disposition) == (dead, disposition)


def test_dialable_numbers_are_the_live_ones_or_all_once_none_is(make_company):
    company = make_company(phone="677001234")
    company.merge_numbers([("699001234", PhoneLabel.MOBILE)])
    first, second = company.phones.all()
    first.record_call("4.30", first.created_at)
    assert list(company.phones.dialable()) == [second]
    second.record_call("4.30", second.created_at)
    assert list(company.phones.dialable()) == [first, second]


def test_a_contact_persons_direct_line_is_one_of_the_company_numbers(make_company):
    company = make_company(phone="677001234")
    company.people.create(name="M. Kamga", phone="+237 6 99 00 11 22")
    assert numbers_of(company)[-1] == (1, "direct", "+237 6 99 00 11 22", "+237699001122")
