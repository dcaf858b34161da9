"""An htmx request that fails never passes for saved: the page says so, and forgets it once a
request goes through again."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_failed_filter_request_says_the_server_or_the_network_failed(
    page, live_server, login, supervisor, make_company
):
    make_company(name="Huilerie Garoua", location="Garoua")
    login(page, supervisor)
    page.goto(f"{live_server.url}/contacts/")
    alert = page.locator("#request-error")
    expect(alert).to_be_hidden()

    page.route("**/contacts/?*", lambda route: route.fulfill(status=503, body="indisponible"))
    page.get_by_label("Localisation").fill("Kribi")
    expect(alert).to_contain_text("Le serveur n’a pas pu traiter cette demande")
    expect(alert).to_contain_text("(503)")

    page.unroute("**/contacts/?*")
    page.route("**/contacts/?*", lambda route: route.abort())
    page.get_by_label("Localisation").fill("Kribi ou")
    expect(alert).to_contain_text("Pas de réseau")

    page.unroute("**/contacts/?*")
    page.get_by_label("Localisation").fill("Garoua")
    expect(page.get_by_text("Huilerie Garoua")).to_be_visible()
    expect(alert).to_be_hidden()
