"""Test data builders shared by every test module (factory-boy).

    CallFactory(company=company, operator=operator, outcome="no_answer", submitted=True)
    RecordingFactory(call=call, seconds=42)

A call's answers come from one `outcome` name (see OUTCOMES); a submitted call gets its
AAPOR code from the model's own rule, as CallRecord.submit() gives it.
"""

from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from factory.django import DjangoModelFactory

from calls import daily
from calls.models import CallRecord, Health, Recording
from companies.models import Campaign, Company, ContactPerson, PinnedNote

LEVELS = ("presentation_level", "questions_libres_level", "questions_orientees_level")

# outcome name -> the answers of the call form that give it.
OUTCOMES = {
    "draft": {},
    "invalid": {"status_numero": "invalid"},
    "no_answer": {"status_numero": "no_answer"},
    "voicemail": {"status_numero": "voicemail"},
    "bad_number": {"status_numero": "answered", "call_status": "bad_number"},
    "not_transformer": {"status_numero": "answered", "call_status": "not_transformer"},
    "callback": {"status_numero": "answered", "call_status": "callback"},
    "refused": {"status_numero": "answered", "call_status": "refused"},
    "complete": {
        "status_numero": "answered",
        "call_status": "accepted",
        **dict.fromkeys(LEVELS, "complete"),
    },
    "partial": {
        "status_numero": "answered",
        "call_status": "accepted",
        **dict.fromkeys(LEVELS, "partial"),
    },
}


class CampaignFactory(DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campagne {n}")
    no_answer_max_attempts = 3
    voicemail_max_attempts = 3
    no_answer_delay = timedelta(hours=2)
    voicemail_delay = timedelta(hours=2)
    # Open at every hour, no holidays, no spreading: tests of other behaviours mean the same
    # whatever day and hour they run (tests of the fieldwork rules set their own).
    calling_hours = factory.LazyFunction(lambda: [[["00:00", "24:00"]] for _day in range(7)])
    public_holidays = False
    spread_attempts = False


class CompanyFactory(DjangoModelFactory):
    class Meta:
        model = Company

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Société {n}")
    phone = factory.Sequence(
        lambda n: f"6 77 {n // 10000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d}"
    )
    product = "cacao"
    activity = "transformation"
    location = "Douala"
    legal_form = "SARL"
    niu = factory.Sequence(lambda n: f"M{n:012d}A")


class ContactPersonFactory(DjangoModelFactory):
    """A contact person; a direct line (phone=...) also becomes one of the company's numbers."""

    class Meta:
        model = ContactPerson

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Personne {n}")
    role = "Directrice"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = "auth.User"
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"utilisateur{n}")
    password = factory.django.Password("mot-de-passe-de-test")


class CallFactory(DjangoModelFactory):
    """A call of `outcome` (a key of OUTCOMES); submitted=True stamps it and gives its code."""

    class Meta:
        model = CallRecord
        exclude = ("outcome", "submitted")
        skip_postgeneration_save = True

    outcome = "no_answer"
    submitted = False
    company = factory.SubFactory(CompanyFactory)
    operator = factory.SubFactory(UserFactory)
    attempt = 1
    status_numero = factory.LazyAttribute(lambda o: OUTCOMES[o.outcome].get("status_numero", ""))
    call_status = factory.LazyAttribute(lambda o: OUTCOMES[o.outcome].get("call_status", ""))
    presentation_level = factory.LazyAttribute(lambda o: OUTCOMES[o.outcome].get(LEVELS[0], ""))
    questions_libres_level = factory.LazyAttribute(lambda o: OUTCOMES[o.outcome].get(LEVELS[1], ""))
    questions_orientees_level = factory.LazyAttribute(
        lambda o: OUTCOMES[o.outcome].get(LEVELS[2], "")
    )
    submitted_at = factory.LazyAttribute(lambda o: timezone.now() if o.submitted else None)

    @factory.post_generation
    def disposition_of_the_outcome(call, create, extracted, **kwargs):
        if call.submitted_at and not call.disposition:
            call.disposition = call.outcome_disposition()
            if create:
                call.save(update_fields=["disposition"])
        if call.submitted_at and create:
            daily.refresh_for_calls(call)  # the dashboard's kept figures, as a submission does


AUDIO = b"\x1a\x45\xdf\xa3" + b"\x00" * 60  # a WebM signature and some bytes


class RecordingFactory(DjangoModelFactory):
    """A finished recording of `seconds`. Its audio (stored_file=b"...", AUDIO by default,
    b"" for none) is stored through the storage API once the recording has the id and date
    that name its file."""

    class Meta:
        model = Recording
        exclude = ("seconds",)
        skip_postgeneration_save = True

    seconds = 30
    call = factory.SubFactory(CallFactory)
    mime_type = "audio/webm"
    duration_seconds = factory.SelfAttribute("seconds")
    is_complete = True
    health = Health.COMPLETE

    @factory.post_generation
    def stored_file(recording, create, extracted, **kwargs):
        audio = AUDIO if extracted is None else extracted
        if create and audio:
            recording.size_bytes = len(audio)
            recording.file.save("appel.webm", ContentFile(audio), save=True)


class PinnedNoteFactory(DjangoModelFactory):
    class Meta:
        model = PinnedNote

    company = factory.SubFactory(CompanyFactory)
    text = factory.Sequence(lambda n: f"Note épinglée {n}")
    pinned_by = factory.SubFactory(UserFactory)


def campaign_form_data(**changes) -> dict:
    """Everything the campaign form posts, with the fieldwork defaults, changed by `changes`
    (None removes a field, as an unticked checkbox does)."""
    data = {
        "name": "Enquête laitière",
        "is_active": "on",
        "hours_0": "08:00-12:30, 14:00-18:00",
        "hours_1": "08:00-12:30, 14:00-18:00",
        "hours_2": "08:00-12:30, 14:00-18:00",
        "hours_3": "08:00-12:30, 14:00-18:00",
        "hours_4": "08:00-12:30, 14:00-18:00",
        "hours_5": "09:00-12:00",
        "hours_6": "",
        "time_zone": "Africa/Douala",
        "public_holidays": "on",
        "closed_days_text": "",
        "no_answer_delay_minutes": 120,
        "no_answer_max_attempts": 3,
        "voicemail_delay_minutes": 120,
        "voicemail_max_attempts": 3,
        "callback_delay_minutes": 0,
        "callback_max_attempts": "",
        "spread_attempts": "on",
        "refusal_conversion_days": 14,
        "quota_others_callable": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}
