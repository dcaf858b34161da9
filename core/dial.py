"""Dial links: how a phone number becomes the link an operator clicks to call it.

`tel:{e164}` by default, so the computer or phone hands the number to its dialler; teams that
dial through a softphone or a PBX set DIAL_LINK_TEMPLATE (README, « Configuration »), e.g.
`sip:{e164}@pbx.example` or `https://softphone.local/dial?number={digits}`. The template is
checked when the settings load: a link that could run a script (javascript:, data:...) or
carry anything but the number never reaches a page.
"""

import re
from string import Formatter

from django.core.exceptions import ImproperlyConfigured

DEFAULT_TEMPLATE = "tel:{e164}"
# {e164}: +237677001122; {digits}: 237677001122 (the same without "+", for URLs where a "+"
# would read as a space).
PLACEHOLDERS = {"e164", "digits"}
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# Schemes a browser runs or reads locally instead of handing to a dialler.
REFUSED_SCHEMES = {"javascript", "vbscript", "data", "file", "blob", "filesystem", "about"}
FORBIDDEN_CHARACTERS = re.compile(r"[\s\"'<>`\\\x00-\x1f\x7f]")


def checked_template(template: str) -> str:
    """The template itself when it is a safe dial link template; ImproperlyConfigured otherwise
    (the application then refuses to start, with the reason)."""
    problem = template_problem(template)
    if problem:
        raise ImproperlyConfigured(f"DIAL_LINK_TEMPLATE {template!r} refused: {problem}")
    return template


def template_problem(template: str) -> str:
    if FORBIDDEN_CHARACTERS.search(template):
        return "spaces, quotes, angle brackets, backslashes and control characters are not allowed"
    scheme = SCHEME.match(template)
    if not scheme:
        return "it must start with a URL scheme such as tel:, sip: or https:"
    if scheme.group()[:-1].lower() in REFUSED_SCHEMES:
        return f"the scheme {scheme.group()} can run code in the browser"
    try:
        fields = list(Formatter().parse(template))
    except ValueError as error:
        return f"unbalanced braces ({error})"
    names = []
    for _text, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            return "the only placeholders are {e164} and {digits}, written as they are"
        names.append(name)
    if not names:
        return "it must contain {e164} or {digits}"
    return ""


def dial_url(e164: str, template: str = DEFAULT_TEMPLATE) -> str:
    """The link that dials a normalised number ("" for a number that is not recognised)."""
    if not e164:
        return ""
    return template.format(e164=e164, digits=e164.lstrip("+"))
