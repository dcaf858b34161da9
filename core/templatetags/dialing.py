"""{{ number.e164|dial_url }}: the link that dials a number (core/dial.py, DIAL_LINK_TEMPLATE)."""

from django import template
from django.conf import settings

from core.dial import dial_url as build_dial_url

register = template.Library()


@register.filter
def dial_url(e164: str) -> str:
    return build_dial_url(e164, settings.DIAL_LINK_TEMPLATE)
