"""htmx's history cache must not keep pages with personal data in the browser's storage,
where the next person at a shared computer could read them after logout."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

STORAGE = "JSON.stringify({local: {...localStorage}, session: {...sessionStorage}})"
# What an older htmx left in localStorage, and a snapshot made before this fix.
OLD_SNAPSHOT = """() => {
  const snapshot = JSON.stringify([{url: "/contacts/", title: "Contacts",
      content: "<td>Coopérative Étoile du Wouri</td><td>6 77 00 00 01</td>", scroll: 0}]);
  localStorage.setItem("htmx-history-cache", snapshot);
  sessionStorage.setItem("htmx-history-cache", snapshot);
}"""


def assert_no_personal_data(page):
    stored = page.evaluate(STORAGE)
    for secret in ("Wouri", "77 00 00 01", "677000001"):
        assert secret not in stored, f"{secret!r} is in the browser's storage"


def test_browsing_the_contacts_keeps_no_snapshot_in_storage(
    page, live_server, login, supervisor, company
):
    login(page, supervisor)
    page.goto(f"{live_server.url}/contacts/")
    expect(page.get_by_role("link", name="Coopérative Étoile du Wouri")).to_be_visible()

    # A sort link swaps the results and pushes the URL: htmx snapshots the page it leaves.
    page.get_by_role("link", name="Campagne", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/contacts/?sort=campaign")

    assert_no_personal_data(page)
    # Going back still works: the page comes from the server instead of the snapshot.
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/contacts/")
    expect(page.get_by_role("link", name="Coopérative Étoile du Wouri")).to_be_visible()
    assert_no_personal_data(page)


def test_logging_out_clears_what_an_older_page_left(page, live_server, login, supervisor, company):
    login(page, supervisor)
    page.goto(f"{live_server.url}/contacts/")
    page.evaluate(OLD_SNAPSHOT)

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()

    assert_no_personal_data(page)
