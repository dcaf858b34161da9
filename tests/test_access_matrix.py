"""Every URL of the project, requested by every role, gets the answer its role deserves.

When a page is added, add it to PAGES: test_every_project_url_is_in_the_matrix fails until then.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from companies.models import DoNotCallEntry, QuotaCell

ANONYMOUS, OPERATOR, SUPERVISOR, ADMIN = "anonymous", "operator", "supervisor", "admin"
ROLES = [ANONYMOUS, OPERATOR, SUPERVISOR, ADMIN]
RANK = {role: rank for rank, role in enumerate(ROLES)}
PUBLIC = ANONYMOUS


@dataclass
class Page:
    minimum_role: str
    method: str = "get"
    kwargs: Callable = lambda world: {}
    data: Callable = lambda world: {}
    allowed: tuple = (200,)
    denied: tuple = (403,)
    headers: dict = field(default_factory=dict)
    expect: dict = field(default_factory=dict)  # role -> exact status, where it differs


def company_kwargs(world):
    return {"company_id": world.company.pk}


PAGES: dict[str, Page] = {
    "login": Page(PUBLIC, allowed=(200, 302)),
    "healthz": Page(PUBLIC),
    # The language menu (anyone, the login page included) and the recorder's messages.
    "set_language": Page(PUBLIC, method="post", data=lambda w: {"language": "en"}, allowed=(302,)),
    "javascript-catalog": Page(PUBLIC),
    "logout": Page(OPERATOR, method="post", allowed=(302,)),
    "calls:home": Page(OPERATOR),
    "calls:list": Page(OPERATOR),
    "calls:dashboard": Page(SUPERVISOR),
    "calls:dashboard_productivity": Page(SUPERVISOR),
    "calls:lock_states": Page(OPERATOR, data=lambda w: {"ids": str(w.company.pk)}),
    "calls:next": Page(OPERATOR, method="post", allowed=(302,)),
    "calls:start": Page(OPERATOR, method="post", kwargs=company_kwargs, allowed=(302,)),
    "calls:fill": Page(OPERATOR, kwargs=company_kwargs),
    "calls:submit": Page(OPERATOR, method="post", kwargs=company_kwargs, allowed=(302,)),
    "calls:renew": Page(OPERATOR, method="post", kwargs=company_kwargs, allowed=(286,)),
    "calls:abandon": Page(OPERATOR, method="post", kwargs=company_kwargs, allowed=(302,)),
    "calls:do_not_call": Page(OPERATOR, method="post", kwargs=company_kwargs, allowed=(302,)),
    "calls:player": Page(OPERATOR, kwargs=lambda w: {"company_id": w.recording.call.company_id}),
    # Recording uploads: the operator of the call only; a new recording only while holding the
    # company; chunks only while the recording is open (this one is finished: 410).
    "calls:recording_start": Page(OPERATOR, method="post", kwargs=company_kwargs, allowed=(409,)),
    "calls:recording_chunk": Page(
        OPERATOR,
        method="post",
        kwargs=lambda w: {"recording_id": w.recording.pk, "index": 1},
        expect={OPERATOR: 410, SUPERVISOR: 404, ADMIN: 404},
    ),
    "calls:recording_stop": Page(
        OPERATOR,
        method="post",
        kwargs=lambda w: {"recording_id": w.recording.pk},
        expect={OPERATOR: 200, SUPERVISOR: 404, ADMIN: 404},
    ),
    "calls:recording": Page(OPERATOR, kwargs=lambda w: {"recording_id": w.recording.pk}),
    # « Refus d'enregistrement »: a plain POST naming no call of the user is refused with a
    # message on the call form (tests/calls/test_consent.py tries the call's own page).
    "calls:recording_refused": Page(OPERATOR, method="post", kwargs=company_kwargs, allowed=(302,)),
    "companies:contacts": Page(SUPERVISOR),
    "companies:company": Page(SUPERVISOR, kwargs=lambda w: {"pk": w.company.pk}),
    "companies:company_reopen": Page(
        SUPERVISOR, method="post", kwargs=lambda w: {"pk": w.company.pk}, allowed=(302,)
    ),
    "companies:company_release": Page(
        SUPERVISOR, method="post", kwargs=lambda w: {"pk": w.company.pk}, allowed=(302,)
    ),
    "companies:company_time_zone": Page(
        SUPERVISOR, method="post", kwargs=lambda w: {"pk": w.company.pk}, allowed=(302,)
    ),
    "companies:company_do_not_call": Page(
        SUPERVISOR, method="post", kwargs=lambda w: {"pk": w.company.pk}, allowed=(302,)
    ),
    "companies:campaigns": Page(SUPERVISOR),
    "companies:campaign_quotas": Page(SUPERVISOR, kwargs=lambda w: {"pk": w.company.campaign_id}),
    "companies:quota_target": Page(
        SUPERVISOR,
        method="post",
        kwargs=lambda w: {"pk": w.cell.campaign_id, "cell_pk": w.cell.pk},
        allowed=(302,),
    ),
    "companies:quota_delete": Page(
        SUPERVISOR,
        method="post",
        kwargs=lambda w: {"pk": w.cell.campaign_id, "cell_pk": w.cell.pk},
        allowed=(302,),
    ),
    "companies:do_not_call": Page(SUPERVISOR),
    "companies:do_not_call_import": Page(SUPERVISOR, method="post", allowed=(422,)),
    "companies:do_not_call_remove": Page(
        SUPERVISOR, method="post", kwargs=lambda w: {"pk": w.entry.pk}, allowed=(302,)
    ),
    "companies:campaign_create": Page(SUPERVISOR),
    "companies:campaign_edit": Page(SUPERVISOR, kwargs=lambda w: {"pk": w.company.campaign_id}),
    "companies:import": Page(SUPERVISOR),
    "companies:import_preview": Page(SUPERVISOR, kwargs=lambda w: {"pk": w.import_batch.pk}),
    "companies:import_apply": Page(
        SUPERVISOR, method="post", kwargs=lambda w: {"pk": w.import_batch.pk}, allowed=(302,)
    ),
    "companies:import_discard": Page(
        SUPERVISOR, method="post", kwargs=lambda w: {"pk": w.import_batch.pk}, allowed=(302,)
    ),
    "companies:import_rejects": Page(SUPERVISOR, kwargs=lambda w: {"pk": w.import_batch.pk}),
    "companies:import_file": Page(SUPERVISOR, kwargs=lambda w: {"pk": w.import_batch.pk}),
    # A company's numbers and people: a supervisor, or the operator holding the company (the
    # operator here holds none: tests/companies/test_company_parts.py tries the holder).
    "companies:people": Page(SUPERVISOR, kwargs=lambda w: {"pk": w.company.pk}),
    "companies:person_add": Page(SUPERVISOR, kwargs=lambda w: {"pk": w.company.pk}),
    "companies:person_edit": Page(
        SUPERVISOR, kwargs=lambda w: {"pk": w.company.pk, "person_id": w.person.pk}
    ),
    "companies:number_add": Page(
        SUPERVISOR, method="post", kwargs=lambda w: {"pk": w.company.pk}, allowed=(302,)
    ),
    "companies:note_pin": Page(
        SUPERVISOR, method="post", kwargs=lambda w: {"pk": w.company.pk}, allowed=(302,)
    ),
    "companies:note_unpin": Page(
        SUPERVISOR,
        method="post",
        kwargs=lambda w: {"pk": w.company.pk, "note_id": w.note.pk},
        allowed=(302,),
    ),
    "calls:callbacks": Page(OPERATOR),
    "calls:callbacks_hand_over": Page(SUPERVISOR, method="post", allowed=(302,)),
    "exports:export": Page(SUPERVISOR),
    "exports:download": Page(SUPERVISOR, data=lambda world: {"format": "csv", "scope": "calls"}),
    "quality:queue": Page(SUPERVISOR),
    "quality:review": Page(SUPERVISOR, kwargs=lambda w: {"call_id": w.submitted_call.pk}),
    "quality:correct": Page(SUPERVISOR, kwargs=lambda w: {"call_id": w.submitted_call.pk}),
    "quality:scorecard": Page(SUPERVISOR, kwargs=lambda w: {"pk": w.company.campaign_id}),
    "quality:suggested_criteria": Page(
        SUPERVISOR, method="post", kwargs=lambda w: {"pk": w.company.campaign_id}, allowed=(302,)
    ),
    "quality:my_reviews": Page(OPERATOR),
    "quality:listens": Page(SUPERVISOR, kwargs=lambda w: {"recording_id": w.recording.pk}),
    # Personal data: the erasure's page (its POST: tests/privacy/test_views.py), the download.
    "privacy:erase": Page(SUPERVISOR, kwargs=lambda w: {"pk": w.company.pk}),
    "privacy:subject_access": Page(SUPERVISOR, kwargs=lambda w: {"pk": w.company.pk}),
}


def project_url_names(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            prefix = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from project_url_names(entry, prefix)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def test_every_project_url_is_in_the_matrix():
    assert set(project_url_names()) == set(PAGES)


@pytest.fixture
def world(operator, supervisor, admin_user, company):
    """Objects the URLs of PAGES point at."""

    class World:
        pass

    w = World()
    w.operator, w.supervisor, w.admin, w.company = operator, supervisor, admin_user, company
    w.recording = recorded_call(operator, company)
    w.import_batch = make_import_batch(supervisor)
    w.submitted_call = reviewed_call(operator, supervisor, company.campaign)
    w.person = company.people.create(name="Mme Ndiaye", role="Directrice")
    w.note = company.notes.create(text="Demander la directrice", pinned_by=supervisor)
    w.cell = QuotaCell.objects.create(
        campaign=company.campaign, field1="activity", value1="cacao", target=10
    )
    w.entry = DoNotCallEntry.objects.create(
        phone_e164="+237699000000", reason="Demande", source="supervisor", created_by=supervisor
    )
    return w


def reviewed_call(operator, supervisor, campaign):
    """A submitted refusal in the review queue, reviewed, with a criterion."""
    from django.utils import timezone

    from companies.models import Company
    from quality.models import Criterion, CriterionResult, ReviewItem
    from tests.factories import CallFactory

    company = Company.objects.create(campaign=campaign, name="Ets Contrôle", phone="677000099")
    call = CallFactory(
        company=company,
        operator=operator,
        outcome="refused",
        submitted=True,
        without_recording=True,
    )
    criterion = Criterion.objects.create(campaign=campaign, label="Présentation faite")
    item, _created = ReviewItem.objects.get_or_create(
        call=call,
        defaults={"operator": operator, "campaign": campaign, "day": timezone.localdate()},
    )
    item.verdict, item.reviewer, item.reviewed_at = "valid", supervisor, timezone.now()
    item.save()
    CriterionResult.objects.create(item=item, criterion=criterion, passed=True)
    return call


def recorded_call(operator, company):
    """A submitted call by operator with a finished recording."""
    from calls.models import Recording
    from calls.recordings import Chunk, add_chunks, finalise
    from tests.factories import CallFactory

    call = CallFactory(company=company, operator=operator, outcome="no_answer")
    recording = Recording.objects.create(call=call, mime_type="audio/webm")
    add_chunks(recording, [Chunk(0, b"\x1a\x45\xdf\xa3" + b"\x00" * 100)], operator)
    return finalise(recording, 1.0)


def make_import_batch(user):
    """An uploaded, previewed, not yet applied import of a two-line file."""
    from django.core.files.base import ContentFile

    from companies import importing
    from companies.models import ImportBatch

    data = b"name;phone\nEts Matrice;677000001\nEts Grille;677000002\n"
    batch = ImportBatch(uploaded_by=user, campaign_name="Campagne de la matrice")
    importing.analyse(data).store_on(batch)
    batch.file.save("matrice.csv", ContentFile(data), save=False)
    batch.save()
    return batch


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", sorted(PAGES))
def test_role_gets_what_it_may(client, world, url_name, role):
    page = PAGES[url_name]
    if role != ANONYMOUS:
        client.force_login(
            {OPERATOR: world.operator, SUPERVISOR: world.supervisor, ADMIN: world.admin}[role]
        )
    url = reverse(url_name, kwargs=page.kwargs(world))
    response = getattr(client, page.method)(url, data=page.data(world), headers=page.headers)

    if role in page.expect:
        assert response.status_code == page.expect[role], (url, role, response.status_code)
    elif RANK[role] >= RANK[page.minimum_role]:
        assert response.status_code in page.allowed, (url, role, response.status_code)
    elif role == ANONYMOUS:
        assert response.status_code == 302, (url, role, response.status_code)
        assert response["Location"].startswith(reverse("login")), response["Location"]
    else:
        assert response.status_code in page.denied, (url, role, response.status_code)


@pytest.mark.parametrize(
    ("role", "expected"), [(ANONYMOUS, 302), (OPERATOR, 302), (SUPERVISOR, 302), (ADMIN, 200)]
)
def test_only_admins_reach_django_admin(client, world, role, expected):
    if role != ANONYMOUS:
        client.force_login(
            {OPERATOR: world.operator, SUPERVISOR: world.supervisor, ADMIN: world.admin}[role]
        )
    response = client.get("/admin/")
    assert response.status_code == expected
    if expected == 302:
        assert "/admin/login/" in response["Location"]
