"""The playback log: every listen (who, which recording, when) is one row; seeking within a
listen is not another listen; supervisors see who listened, admins list a user's listens."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calls.models import Listen, starts_a_listen
from tests.conftest import page_text
from tests.factories import CallFactory, RecordingFactory


@pytest.fixture
def recording(operator, company):
    call = CallFactory(company=company, operator=operator, outcome="refused", submitted=True)
    return RecordingFactory(call=call, stored_file=b"\x1a\x45\xdf\xa3" + b"\x00" * 5000)


def play(client, recording, **headers):
    response = client.get(
        reverse("calls:recording", kwargs={"recording_id": recording.pk}), headers=headers
    )
    if response.streaming:
        b"".join(response.streaming_content)
    return response


@pytest.mark.parametrize(
    ("header", "listen"),
    [
        ("", True),
        ("bytes=0-", True),
        ("bytes=0-4999", True),
        ("bytes=0-1", False),  # Safari's probe before it plays
        ("bytes=0-0", False),
        ("bytes=2048-", False),  # a seek
        ("bytes=-500", False),  # the end of the file
        ("bytes=00-", True),
        ("items=0-1", True),  # not a byte range: served whole
        ("bytes=²-", True),  # not readable: served whole
    ],
)
def test_only_the_start_of_a_listen_counts(header, listen):
    assert starts_a_listen(header) is listen


def test_a_listen_and_its_seeks_are_one_row(client, supervisor, recording):
    client.force_login(supervisor)
    assert play(client, recording, Range="bytes=0-").status_code == 206
    assert play(client, recording, Range="bytes=1000-").status_code == 206
    assert play(client, recording, Range="bytes=3000-").status_code == 206
    listen = Listen.objects.get()
    assert (listen.user, listen.recording) == (supervisor, recording)
    assert play(client, recording).status_code == 200  # played again from the start
    assert Listen.objects.count() == 2


def test_logging_a_listen_is_one_insert(client, supervisor, recording):
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as queries:
        play(client, recording, Range="bytes=0-")
    inserts = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1 and "listen" in inserts[0]


def test_refused_or_empty_answers_log_nothing(client, operator2, supervisor, recording):
    client.force_login(operator2)  # not their call
    assert play(client, recording).status_code == 404
    client.force_login(supervisor)
    assert play(client, recording, Range="bytes=999999-").status_code == 416
    assert client.head(reverse("calls:recording", kwargs={"recording_id": recording.pk}))
    assert not Listen.objects.exists()


def test_the_operator_listening_to_their_own_call_is_logged_too(client, operator, recording):
    client.force_login(operator)
    play(client, recording)
    assert Listen.objects.get().user == operator


def test_a_supervisor_sees_who_listened(client, operator, supervisor, recording):
    client.force_login(operator)
    play(client, recording)
    client.force_login(supervisor)
    play(client, recording)
    page = page_text(client.get(reverse("quality:listens", kwargs={"recording_id": recording.pk})))
    assert "Awa Ngo" in page and "Marie Fouda" in page


def test_operators_do_not_see_who_listened(client, operator, recording):
    client.force_login(operator)
    url = reverse("quality:listens", kwargs={"recording_id": recording.pk})
    assert client.get(url).status_code == 403


def test_an_admin_lists_a_users_listens_and_cannot_edit_them(
    client, admin_user, operator, supervisor, recording
):
    client.force_login(operator)
    play(client, recording)
    client.force_login(supervisor)
    play(client, recording)
    client.force_login(admin_user)
    listing = client.get("/admin/calls/listen/", {"user__id__exact": supervisor.pk})
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 1
    listen = Listen.objects.get(user=supervisor)
    change = f"/admin/calls/listen/{listen.pk}/change/"
    assert client.post(change, {"user": operator.pk}).status_code == 403
    assert (
        client.post(f"/admin/calls/listen/{listen.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert client.get("/admin/calls/listen/add/").status_code == 403
    assert Listen.objects.get(pk=listen.pk).user == supervisor
