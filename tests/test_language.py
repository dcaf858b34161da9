"""The language menu: Django's set_language behind a POST form, the choice kept on the user and
applied at each login on any machine; anonymous pages follow the cookie or the browser."""

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from core.language import SESSION_KEY
from core.models import Profile
from tests.conftest import PASSWORD, page_text

COOKIE = settings.LANGUAGE_COOKIE_NAME
LOGIN = "/appels/acces/"


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def choose(client, language, next_url="/"):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


def log_in(client, user):
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, page_text(response)
    return response


# --- The menu ---


@pytest.mark.django_db
def test_the_login_page_has_the_menu_with_french_marked_current(client):
    text = page_text(client.get(LOGIN))
    menu = re.search(r'<form[^>]*id="language-menu".*?</form>', text, re.S).group(0)
    assert f'action="{reverse("set_language")}"' in menu
    assert 'name="csrfmiddlewaretoken"' in menu
    assert re.search(r'value="fr" lang="fr"[^>]*aria-current="true"[^>]*>Français<', menu, re.S)
    assert re.search(r'value="en" lang="en"[^>]*>English<', menu, re.S)
    assert menu.count("aria-current") == 1


def test_every_page_of_a_signed_in_user_has_the_menu(as_supervisor):
    for url in ("/", "/dashboard/", "/contacts/"):
        assert 'id="language-menu"' in page_text(as_supervisor.get(url)), url


def test_the_menu_goes_back_to_the_page_it_was_used_on(as_supervisor):
    """The form sends no `next` (a page would echo its own query string): Django goes back to
    the Referer, filters included, and only on this site."""
    page = "http://testserver/contacts/?q=Wouri&page=2"
    response = as_supervisor.post(
        reverse("set_language"), {"language": "en"}, headers={"Referer": page}
    )
    assert response["Location"] == page
    response = as_supervisor.post(
        reverse("set_language"), {"language": "fr"}, headers={"Referer": "https://evil.example/"}
    )
    assert response["Location"] == "/"


# --- Anonymous pages: the cookie, else the browser, else French ---


@pytest.mark.django_db
def test_the_login_page_is_french_by_default_and_follows_the_browser(client):
    assert html_lang(client.get(LOGIN)) == "fr"
    english = client.get(LOGIN, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert html_lang(english) == "en"
    assert english["Content-Language"] == "en"
    assert "Log in" in page_text(english)
    assert "Se connecter" in page_text(client.get(LOGIN, headers={"Accept-Language": "fr-CM"}))
    # A language the app does not have falls back to French.
    assert html_lang(client.get(LOGIN, headers={"Accept-Language": "de"})) == "fr"


@pytest.mark.django_db
def test_an_anonymous_choice_is_a_cookie_only(client):
    response = choose(client, "en", LOGIN)
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert response.cookies[COOKIE].value == "en"
    page = client.get(LOGIN, headers={"Accept-Language": "fr"})
    assert html_lang(page) == "en"
    assert "Username" in page_text(page)
    assert not Profile.objects.exists()


# --- Signed in: kept on the user ---


def test_a_choice_is_kept_on_the_user_and_speaks_at_once(client, operator):
    log_in(client, operator)
    response = choose(client, "en", "/appels/")
    assert response.status_code == 302
    assert response["Location"] == "/appels/"
    assert Profile.objects.get(user=operator).language == "en"
    page = client.get("/appels/")
    assert html_lang(page) == "en"
    assert "Call list" in page_text(page)
    choose(client, "fr")
    assert Profile.objects.get(user=operator).language == "fr"
    assert html_lang(client.get("/")) == "fr"


def test_the_stored_language_follows_the_user_to_another_machine(client, operator):
    log_in(client, operator)
    choose(client, "en")

    elsewhere = Client(headers={"Accept-Language": "fr"})
    assert html_lang(elsewhere.get(LOGIN)) == "fr"
    response = log_in(elsewhere, operator)
    # The login's own answer already sets the machine's cookie to the user's language...
    assert response.cookies[COOKIE].value == "en"
    home = elsewhere.get("/")
    assert html_lang(home) == "en"
    assert "Call the next one" in page_text(home)
    # ...so after logging out, this machine's login page speaks it too.
    elsewhere.post(reverse("logout"))
    assert html_lang(elsewhere.get(LOGIN)) == "en"


def test_a_stored_language_wins_over_the_browser_and_the_cookie(client, operator):
    Profile.objects.create(user=operator, language="fr")
    client.cookies[COOKIE] = "en"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    log_in(client, operator)
    assert html_lang(client.get("/")) == "fr"
    assert client.session[SESSION_KEY] == "fr"


def test_without_a_stored_language_a_user_follows_the_browser(client, operator):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    log_in(client, operator)
    assert html_lang(client.get("/")) == "en"
    assert SESSION_KEY not in client.session
    assert not Profile.objects.exists()


def test_another_users_choice_on_the_same_machine_is_not_inherited(client, operator, supervisor):
    log_in(client, operator)
    choose(client, "en")
    client.post(reverse("logout"))
    log_in(client, supervisor)
    # The machine's cookie says English: the supervisor, who chose nothing, sees it...
    assert html_lang(client.get("/")) == "en"
    # ...but nothing was stored on them.
    assert not Profile.objects.filter(user=supervisor).exists()


# --- Abuse ---


@pytest.mark.django_db
def test_an_unknown_language_changes_nothing(client, operator):
    log_in(client, operator)
    for language in ("xx", "", "en' OR 1=1", "fr" * 40):
        response = choose(client, language)
        assert response.status_code == 302
        assert COOKIE not in response.cookies
    assert not Profile.objects.exists()
    assert html_lang(client.get("/")) == "fr"


def test_a_get_changes_nothing(client, operator):
    log_in(client, operator)
    response = client.get(reverse("set_language"), {"language": "en"})
    assert response.status_code == 405
    assert not Profile.objects.exists()


def test_the_menu_never_sends_anyone_to_another_site(client, operator):
    log_in(client, operator)
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = choose(client, "en", target)
        assert response.status_code == 302
        assert response["Location"] == "/", target


def test_the_menu_needs_the_csrf_token(operator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    response = choose(client, "en")
    assert response.status_code == 403
    assert not Profile.objects.exists()


# --- The JavaScript catalogue ---


@pytest.mark.django_db
def test_the_javascript_catalogue_is_served_here_in_the_page_language(client):
    url = reverse("javascript-catalog")
    french = client.get(url)
    assert french.status_code == 200
    assert "Recording" not in french.content.decode()
    client.cookies[COOKIE] = "en"
    english = client.get(f"{url}?lang=en")
    assert english.status_code == 200
    assert english["Content-Type"].startswith("text/javascript")
    assert '"Recording: %(seconds)s s, %(sent)s KB sent."' in english.content.decode()


def test_pages_load_the_catalogue_before_the_scripts_that_use_it(as_supervisor):
    page = as_supervisor.get("/").content.decode()
    catalogue = page.index(f"{reverse('javascript-catalog')}?lang=fr")
    assert catalogue < page.index("js/naumur.js")


# --- Dates and numbers on a real page ---


def test_the_company_page_writes_numbers_and_dates_in_the_active_language(
    as_supervisor, make_company, supervisor
):
    company = make_company(
        validity_score=Decimal("55.60"),
        callback_at=datetime(2026, 11, 29, 14, 44, tzinfo=ZoneInfo("Africa/Douala")),
    )
    url = reverse("companies:company", args=[company.pk])
    french = page_text(as_supervisor.get(url))
    assert "55,60" in french and "29/11/2026 14:44" in french
    choose(as_supervisor, "en")
    english = page_text(as_supervisor.get(url))
    assert "55.60" in english and "29/11/2026 14:44" in english
    assert "55,60" not in english and "2:44" not in english


# --- The consent sentence ---


def test_the_default_consent_sentence_is_read_in_the_operators_language(client, operator, company):
    """A campaign created in French stores the default sentence in French; an operator working
    in English reads it in English. A campaign's own sentence stays as it was typed."""
    from companies.models import Company

    assert "Acceptez-vous que cet appel soit enregistré ?" in company.campaign.consent_sentence
    client.force_login(operator)
    Company.objects.claim(company, operator)
    url = reverse("calls:fill", args=[company.pk])
    assert "Acceptez-vous que cet appel soit enregistré ?" in page_text(client.get(url))
    choose(client, "en")
    english = page_text(client.get(url))
    assert "Do you agree to this call being recorded?" in english
    assert "Acceptez-vous" not in english

    company.campaign.consent_sentence = "Acceptez-vous l'enregistrement ? (phrase du client)"
    company.campaign.save(update_fields=["consent_sentence"])
    assert "Acceptez-vous l'enregistrement ? (phrase du client)" in page_text(client.get(url))


def test_the_campaign_form_shows_the_default_sentence_in_the_readers_language_and_keeps_it(
    as_supervisor, campaign
):
    from companies.models import CONSENT_SENTENCE, Campaign
    from tests.factories import campaign_form_data

    english = "Do you agree to this call being recorded?"
    assert campaign.consent_sentence == CONSENT_SENTENCE
    url = reverse("companies:campaign_edit", kwargs={"pk": campaign.pk})
    choose(as_supervisor, "en")
    page = page_text(as_supervisor.get(url))
    assert english in page and "Acceptez-vous" not in page

    # Saved untouched (the English default comes back): the stored default stays as it was.
    sentence = re.search(r"Before we begin[^<]*", page).group(0).replace("&#x27;", "'")
    response = as_supervisor.post(url, campaign_form_data(consent_sentence=sentence))
    assert response.status_code == 302, page_text(response)
    assert Campaign.objects.get(pk=campaign.pk).consent_sentence == CONSENT_SENTENCE
    # A sentence of the campaign's own is kept as typed.
    own = "May we record this call? (client's words)"
    assert as_supervisor.post(url, campaign_form_data(consent_sentence=own)).status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).consent_sentence == own
