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


def login_from(client, address, username, password, **headers):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        headers=headers,
    )


def spread_failures(client, count, username="operateur1"):
    """count failed logins, from as many addresses as the per-address lock lets through."""
    per_address = 2
    for n in range(count):
        login_from(client, f"10.0.{n // per_address}.1", username, "mauvais")


def test_failures_spread_over_many_addresses_lock_the_username(client, operator, settings):
    assert settings.AXES_USERNAME_FAILURE_LIMIT > settings.AXES_FAILURE_LIMIT
    spread_failures(client, settings.AXES_USERNAME_FAILURE_LIMIT)

    response = login_from(client, "192.0.2.77", "operateur1", PASSWORD)

    assert response.status_code == 429
    assert "Trop de tentatives de connexion" in response.text
    assert "_auth_user_id" not in client.session


def test_below_the_username_limit_the_right_password_still_works(client, operator, settings):
    spread_failures(client, settings.AXES_USERNAME_FAILURE_LIMIT - 1)

    response = login_from(client, "192.0.2.77", "operateur1", PASSWORD)

    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_the_username_lock_spares_other_accounts(client, operator, operator2, settings):
    spread_failures(client, settings.AXES_USERNAME_FAILURE_LIMIT)

    assert login_from(client, "192.0.2.77", "operateur2", PASSWORD).status_code == 302


def test_the_username_lock_ends_with_the_cool_off_time(client, operator, settings):
    import time_machine
    from django.utils import timezone

    spread_failures(client, settings.AXES_USERNAME_FAILURE_LIMIT)
    later = timezone.now() + settings.AXES_COOLOFF_TIME
    with time_machine.travel(later, tick=False):
        assert login_from(client, "192.0.2.77", "operateur1", PASSWORD).status_code == 302


def test_forwarding_headers_are_not_trusted_without_a_proxy(client, operator, settings):
    """By default the address is REMOTE_ADDR: a client cannot dodge the per-address lock by
    sending a new X-Forwarded-For or X-Real-IP with each guess."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        forged = f"198.51.100.{n}"
        login_from(
            client,
            "10.9.9.9",
            "operateur1",
            "mauvais",
            **{"X-Forwarded-For": forged, "X-Real-IP": forged},
        )

    response = login_from(client, "10.9.9.9", "operateur1", PASSWORD, **{"X-Real-IP": "1.2.3.4"})

    assert response.status_code == 429


def test_behind_nginx_the_real_ip_header_names_the_client(client, operator, settings):
    """With AXES_IPWARE_META_PRECEDENCE_ORDER=HTTP_X_REAL_IP,REMOTE_ADDR (README), every
    request arrives from nginx's address and X-Real-IP tells the clients apart."""
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_REAL_IP", "REMOTE_ADDR"]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_from(client, "127.0.0.1", "operateur1", "mauvais", **{"X-Real-IP": "203.0.113.5"})

    locked = login_from(client, "127.0.0.1", "operateur1", PASSWORD, **{"X-Real-IP": "203.0.113.5"})
    other = login_from(client, "127.0.0.1", "operateur1", PASSWORD, **{"X-Real-IP": "203.0.113.6"})

    assert locked.status_code == 429
    assert other.status_code == 302


@pytest.mark.parametrize("forged", ["pas-une-adresse", "203.0.113.5, 10.0.0.1", "", "1" * 300])
def test_a_real_ip_header_that_is_no_address_falls_back_to_the_connection(
    client, operator, settings, forged
):
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_REAL_IP", "REMOTE_ADDR"]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_from(client, "127.0.0.9", "operateur1", "mauvais", **{"X-Real-IP": forged})

    response = login_from(client, "127.0.0.9", "operateur1", PASSWORD)

    assert response.status_code == 429
