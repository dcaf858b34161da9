"""Redirect targets that come from the client (a posted `back` or `next`, the login's `next`)
lead only to pages of this site: a forged one lands on the view's own default page."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from companies.models import Company
from core.redirects import safe_target
from tests.conftest import PASSWORD

HOSTILE = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "https:evil.example",
    "javascript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "http://testserver@evil.example/",
    "\x00/appels/",
    " //evil.example/",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_a_foreign_or_scripted_target_gives_the_default(target):
    request = RequestFactory().post("/")
    assert safe_target(request, target, "/appels/") == "/appels/"


def test_plain_http_on_this_host_is_refused_to_a_request_that_came_over_https():
    request = RequestFactory().post("/", secure=True)
    assert safe_target(request, "http://testserver/contacts/", "/") == "/"
    assert (
        safe_target(request, "https://testserver/contacts/", "/") == "https://testserver/contacts/"
    )


@pytest.mark.parametrize("target", ["/contacts/?status=done&page=2", "http://testserver/contacts/"])
def test_a_page_of_this_site_is_kept(target):
    assert safe_target(RequestFactory().post("/"), target, "/") == target


@pytest.mark.parametrize("target", [None, ""])
def test_no_target_gives_the_default(target):
    assert safe_target(RequestFactory().post("/"), target, "/appels/") == "/appels/"


@pytest.fixture
def company_held_by_someone_else(company, operator2):
    assert Company.objects.claim(company, operator2)
    return company


@pytest.mark.parametrize("back", HOSTILE)
def test_start_call_never_sends_back_to_another_site(
    client, operator, company_held_by_someone_else, back
):
    client.force_login(operator)
    url = reverse("calls:start", kwargs={"company_id": company_held_by_someone_else.pk})
    response = client.post(url, {"back": back})
    assert response.status_code == 302
    assert response["Location"] == reverse("calls:list")


def test_start_call_goes_back_to_the_filtered_list_it_came_from(
    client, operator, company_held_by_someone_else
):
    client.force_login(operator)
    url = reverse("calls:start", kwargs={"company_id": company_held_by_someone_else.pk})
    response = client.post(url, {"back": "/appels/?status=pending&page=2"})
    assert response["Location"] == "/appels/?status=pending&page=2"


def test_a_back_that_is_no_url_is_no_server_error(client, operator, company_held_by_someone_else):
    """A bare word once went to reverse() as a URL name, and failed there."""
    client.force_login(operator)
    url = reverse("calls:start", kwargs={"company_id": company_held_by_someone_else.pk})
    response = client.post(url, {"back": "liste"})
    assert response.status_code == 302


@pytest.mark.parametrize("action", ["companies:company_reopen", "companies:company_release"])
@pytest.mark.parametrize("target", HOSTILE)
def test_contacts_actions_never_send_back_to_another_site(
    client, supervisor, company, action, target
):
    client.force_login(supervisor)
    response = client.post(reverse(action, kwargs={"pk": company.pk}), {"next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("companies:contacts")


@pytest.mark.parametrize("target", HOSTILE)
def test_login_never_sends_to_another_site(client, operator, target):
    response = client.post(
        reverse("login"), {"username": "operateur1", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("calls:home")
