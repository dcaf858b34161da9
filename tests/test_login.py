"""Login by username and password at /appels/acces/, logout, throttling by django-axes."""

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD


def login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_the_login_page_is_french_and_public(client, db):
    response = client.get("/appels/acces/")
    assert response.status_code == 200
    assert "Connexion" in response.text and "Identifiant" in response.text


def test_a_valid_login_goes_home(client, operator):
    response = login(client, "operateur1", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_wrong_password_gives_a_french_error_and_no_session(client, operator):
    response = login(client, "operateur1", "pas-le-bon")
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect" in response.text
    assert "_auth_user_id" not in client.session


def test_a_password_alone_logs_nobody_in(client, operator, operator2):
    """The historical version matched a bare password against every user: never again."""
    response = login(client, "", PASSWORD)
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_an_inactive_account_cannot_log_in(client, operator):
    operator.is_active = False
    operator.save()
    login(client, "operateur1", PASSWORD)
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_account_with_a_french_message(client, operator, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "operateur1", "mauvais")
    response = login(client, "operateur1", PASSWORD)
    assert response.status_code == 429
    assert "Trop de tentatives de connexion" in response.text
    assert "_auth_user_id" not in client.session


def test_logout_needs_a_post_and_ends_the_session(client, operator):
    client.force_login(operator)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("path", ["/", "/appels/", "/dashboard/", "/contacts/", "/export/"])
def test_every_page_needs_a_login(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/appels/acces/?next=")


def test_static_files_need_no_login(client, db, settings):
    settings.WHITENOISE_USE_FINDERS = True  # no collectstatic in tests
    response = client.get("/static/bootstrap/css/bootstrap.min.css")
    assert response.status_code == 200
