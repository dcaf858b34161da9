"""Hostile query strings and headers on every GET page of the URL matrix, as every role: the
answer is a page or a clear 4xx, never a server error.

Every list, filter, sort, page and date parameter the views read is drawn often, with values
that once broke one of them ("abc" or a page past the end, a number too large for the
database, "²" that str.isdigit() accepts and int() refuses), and so are the htmx headers and
the recording's Range header. The example count stays small: the suite runs this on both
databases; a failure shrinks to the one request to turn into a plain regression test.
"""

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_access_matrix import ADMIN, ANONYMOUS, OPERATOR, PAGES, ROLES, SUPERVISOR
from tests.test_access_matrix import world as world  # noqa: F401 - the matrix's fixture

GET_PAGES = sorted(name for name, page in PAGES.items() if page.method == "get")
EXAMPLES_PER_PAGE = 12

# Every query parameter a view of the project reads, plus the login's.
PARAMETERS = [
    "page",
    "sort",
    "per_page",
    "q",
    "campaign",
    "status",
    "location",
    "activity",
    "archived",
    "period",
    "date_from",
    "date_to",
    "format",
    "scope",
    "operator",
    "number_status",
    "call_status",
    "ids",
    "next",
    "reason",
    "reviewed",
    "verdict",
]
ODD_VALUES = [
    "",
    "0",
    "-1",
    "abc",
    "1.5",
    "1e9",
    "9" * 30,
    "99999",
    "²",
    "١٢",
    "\x00",
    "%",
    "%ff",
    "2026-02-30",
    "0001-01-01",
    "9999-12-31",
    "31/12/2026",
    "custom",
    "-name",
    "name,phone",
    "-",
    "__class__",
    "pk",
    "name",
    "-attempts",
    "campaign",
    "-lock",
    "-submitted_at",
    "reasons",
    "short_recording",
    "oui",
    "tous",
    "actions",
    "disposition",
    "last_called_at",
    "is_active",
    "total",
    "status_numero",
    "1,2,abc,²,99999999999999999999",
    "https://evil.example/",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "x" * 2000,
]
values = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.integers().map(str),
    st.text(max_size=30),
)
pair = st.tuples(st.one_of(st.sampled_from(PARAMETERS), st.text(min_size=1, max_size=8)), values)
# Raw bytes of a query string, percent signs and separators included, never re-encoded.
raw_junk = st.text(alphabet="%=&;+?[]._-~abcdefxyz0123456789é²\\/", max_size=24)


@st.composite
def query_strings(draw) -> str:
    from urllib.parse import urlencode

    encoded = urlencode(draw(st.lists(pair, max_size=5)))
    junk = draw(st.one_of(st.just(""), raw_junk))
    return "&".join(part for part in (encoded, junk) if part)


# Header values a proxy would pass on (no control characters: gunicorn refuses those).
header_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=60)
HTMX_HEADERS = [
    "HX-Request",
    "HX-Boosted",
    "HX-Current-URL",
    "HX-History-Restore-Request",
    "HX-Prompt",
    "HX-Target",
    "HX-Trigger",
    "HX-Trigger-Name",
]
range_values = st.one_of(
    st.sampled_from(
        ["bytes=0-", "bytes=-0", "bytes=5-2", "bytes=0-0,5-9", "bytes=²-", "items=0-1", "bytes="]
    ),
    st.from_regex(r"bytes=[0-9²١]{0,22}-[0-9²١]{0,22}", fullmatch=True),
    header_text,
)


@st.composite
def header_sets(draw) -> dict:
    headers = {}
    if draw(st.booleans()):
        headers["HX-Request"] = draw(st.sampled_from(["true", "false", ""]))
    for name in draw(st.lists(st.sampled_from(HTMX_HEADERS), max_size=3, unique=True)):
        headers[name] = draw(
            st.one_of(st.sampled_from(["true", "https://evil.example/"]), header_text)
        )
    if draw(st.booleans()):
        headers["Range"] = draw(range_values)
    return headers


def log_in(client, world, role):
    if role != ANONYMOUS:
        user = {OPERATOR: world.operator, SUPERVISOR: world.supervisor, ADMIN: world.admin}[role]
        client.force_login(user)


@pytest.mark.parametrize("role", ROLES)
def test_hostile_query_strings_and_headers_never_cause_a_server_error(client, world, role):
    """One test per role (the world is built once), one search per page of the matrix."""
    log_in(client, world, role)
    for url_name in GET_PAGES:
        url = reverse(url_name, kwargs=PAGES[url_name].kwargs(world))
        never_a_server_error(client, url)


def never_a_server_error(client, url):
    @settings(max_examples=EXAMPLES_PER_PAGE)
    @given(query=query_strings(), headers=header_sets())
    def request(query, headers):
        response = client.get(f"{url}?{query}", headers=headers)
        if response.streaming:  # a streamed body fails while it is read, not before
            b"".join(response.streaming_content)
        assert response.status_code < 500, (url, query, headers, response.status_code)

    request()


# --- The cases the search found on the first run, as plain regression tests. -----------------


@pytest.fixture
def fifty_one_companies(make_company):
    return [make_company() for _ in range(51)]


@pytest.mark.parametrize("number", ["abc", "", "1.5", "%ff", "²"])
def test_a_page_that_is_not_a_number_shows_the_first_page(
    client, operator, fifty_one_companies, number
):
    client.force_login(operator)
    response = client.get(reverse("calls:list"), {"page": number})
    assert response.status_code == 200
    assert response.text.count('data-company-id="') == 50


@pytest.mark.parametrize("number", ["3", "9" * 30, "0", "-1"])
def test_a_page_out_of_range_shows_the_last_page(client, operator, fifty_one_companies, number):
    client.force_login(operator)
    response = client.get(reverse("calls:list"), {"page": number}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.count('data-company-id="') == 1


@pytest.mark.parametrize(
    ("url_name", "role"),
    [
        ("calls:list", "operator"),
        ("companies:contacts", "supervisor"),
        ("companies:campaigns", "supervisor"),
        ("companies:import", "supervisor"),
    ],
)
@pytest.mark.parametrize("per_page", ["-5", "0", "100000"])
def test_the_page_size_is_the_views_not_the_urls(client, world, url_name, role, per_page):
    client.force_login(getattr(world, role))
    response = client.get(reverse(url_name), {"per_page": per_page, "page": "1"})
    assert response.status_code == 200


def test_a_huge_page_size_in_the_url_still_shows_fifty_rows(client, operator, fifty_one_companies):
    client.force_login(operator)
    response = client.get(reverse("calls:list"), {"per_page": "100000"})
    assert response.text.count('data-company-id="') == 50


@pytest.mark.parametrize("ids", ["9" * 30, "²", "1,²,2", "١٢"])
def test_lock_states_ignore_ids_no_database_column_holds(client, operator, company, ids):
    client.force_login(operator)
    response = client.get(reverse("calls:lock_states"), {"ids": f"{ids},{company.pk}"})
    assert response.status_code == 200
    assert f'id="lock-{company.pk}"' in response.text


@pytest.mark.parametrize("header", ["bytes=²-", "bytes=0-²", "bytes=-١"])
def test_a_range_with_digits_int_refuses_is_served_whole(client, world, header):
    client.force_login(world.operator)
    url = reverse("calls:recording", kwargs={"recording_id": world.recording.pk})
    response = client.get(url, headers={"Range": header})
    assert response.status_code == 200
