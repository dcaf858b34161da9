"""403 and 404 are pages of the site: French, with the menu, a heading and a way back."""

from django.urls import reverse

from tests.conftest import page_text


def test_a_page_that_does_not_exist_says_so_in_french(client, operator):
    client.force_login(operator)
    response = client.get("/contacts/999999/inconnue/")
    assert response.status_code == 404
    text = page_text(response)
    assert '<html lang="fr">' in text and "<main" in text
    assert "<title>Page introuvable · Naumur</title>" in text
    assert "Cette page n'existe pas, ou plus" in text
    assert f'href="{reverse("calls:home")}">Retour à l\'accueil' in text


def test_a_page_the_role_may_not_open_says_so_in_french(client, operator):
    client.force_login(operator)
    response = client.get(reverse("calls:dashboard"))
    assert response.status_code == 403
    text = page_text(response)
    assert "<title>Accès refusé · Naumur</title>" in text
    assert "Votre compte n'a pas le droit d'ouvrir cette page" in text
    assert "Liste d'appels" in text  # the operator's own menu


def test_an_anonymous_404_has_no_menu_and_no_error(client):
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    text = page_text(response)
    assert "Page introuvable" in text and "Se déconnecter" not in text
