"""The call form's keys (calls.forms.SHORTCUTS): one per answer, none twice, none taken by the
form's other keys; shown on the call form only. In the browser: tests/browser/test_keyboard.py."""

from django.urls import reverse

from calls.forms import SHORTCUTS, CallForm
from companies.models import Company
from tests.quality.helpers import submit_call

OTHER_KEYS = {"M", "N", "?"}  # the microphone, the notes, the list of keys


def test_every_answer_has_a_key_of_its_own():
    for name, keys in SHORTCUTS.items():
        answers = [value for value, _label in CallForm.base_fields[name].choices if value]
        assert len(keys) == len(answers), name
    every_key = "".join(SHORTCUTS.values())
    assert len(set(every_key)) == len(every_key)
    assert not set(every_key) & OTHER_KEYS
    assert all(key.isdigit() or key.isupper() for key in every_key)


def test_the_call_form_shows_each_key_on_its_answer(client, operator, company):
    client.force_login(operator)
    assert Company.objects.claim(company, operator)
    response = client.get(reverse("calls:fill", args=[company.pk]))
    html = response.content.decode()
    assert 'value="answered" autocomplete="off" aria-keyshortcuts="4"' in html
    assert 'for="id_status_numero_3" data-key="4">Décroche</label>' in html
    assert 'id="mic-start" aria-keyshortcuts="M" data-key="M"' in html


def test_the_correction_page_has_no_keys(client, supervisor, operator, company):
    call = submit_call(company, operator, "no_answer")
    client.force_login(supervisor)
    response = client.get(reverse("quality:correct", args=[call.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Décroche" in html
    assert "aria-keyshortcuts" not in html and "data-key" not in html
