"""Dial links: tel: by default, a softphone's template through DIAL_LINK_TEMPLATE, and a hostile
template refused when the application starts."""

import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.dial import checked_template, dial_url
from tests.test_quality import run


def test_the_default_link_is_tel():
    assert dial_url("+237677001122") == "tel:+237677001122"


@pytest.mark.parametrize(
    ("template", "link"),
    [
        ("sip:{e164}@pbx.example", "sip:+237677001122@pbx.example"),
        ("sips:{digits}@pbx.example:5061", "sips:237677001122@pbx.example:5061"),
        ("callto:{e164}", "callto:+237677001122"),
        ("https://softphone.local:8080/dial?number={digits}", None),
    ],
)
def test_softphone_templates_are_accepted(template, link):
    assert checked_template(template) == template
    expected = link or "https://softphone.local:8080/dial?number=237677001122"
    assert dial_url("+237677001122", template) == expected


def test_a_number_that_is_not_recognised_gets_no_link():
    assert dial_url("", "sip:{e164}@pbx.example") == ""


@pytest.mark.parametrize(
    "template",
    [
        "javascript:alert({e164})",
        "JavaScript:alert({e164})",
        " javascript:alert({e164})",
        "java\tscript:alert({e164})",
        "jav&#x61;script:alert({e164})",
        "data:text/html,{e164}",
        "vbscript:{e164}",
        "file:///etc/{e164}",
        'tel:{e164}" onclick="alert(1)',
        "tel:{e164}'><script>",
        "{e164}",  # no scheme: a relative link into the site
        "//evil.example/{e164}",
        "tel:0000",  # no number at all
        "tel:{e164.__class__}",
        "tel:{e164!r}",
        "tel:{e164:>30}",
        "tel:{number}",
        "tel:{e164",
        "",
    ],
)
def test_hostile_or_broken_templates_are_refused(template):
    with pytest.raises(ImproperlyConfigured, match="DIAL_LINK_TEMPLATE"):
        checked_template(template)


def test_the_application_refuses_to_start_with_a_hostile_template():
    refused = run(
        sys.executable, "manage.py", "check", env={"DIAL_LINK_TEMPLATE": "javascript:alert({e164})"}
    )
    assert refused.returncode != 0
    assert "DIAL_LINK_TEMPLATE" in refused.stderr and "can run code" in refused.stderr
    accepted = run(
        sys.executable, "manage.py", "check", env={"DIAL_LINK_TEMPLATE": "sip:{e164}@pbx.example"}
    )
    assert accepted.returncode == 0, accepted.stderr
