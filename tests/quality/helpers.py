"""Calls submitted the way an operator submits them: claimed, answered, CallRecord.submit()."""

from calls.models import CallRecord
from companies.models import Company
from tests.factories import OUTCOMES


def submit_call(company, operator, outcome: str, without_recording=True, **answers) -> CallRecord:
    """Claim `company` for `operator`, answer with `outcome` (tests.factories.OUTCOMES) and
    submit, as the call form does. The company moves on through the life cycle."""
    assert Company.objects.claim(company, operator)
    call = CallRecord.objects.draft_for(Company.objects.get(pk=company.pk), operator)
    for name, value in {**OUTCOMES[outcome], **answers}.items():
        setattr(call, name, value)
    call.without_recording = without_recording
    call.save()
    call.submit(operator)
    return call
