"""{% recording_badge health missing_chunks %}: a recording's health as a badge, the same on
the call list, the contacts, the company page and wherever a recording is listed."""

from django import template

from calls.models import Health, health_label

register = template.Library()

BADGE_CLASSES = {
    Health.COMPLETE: "text-bg-success",
    Health.INCOMPLETE: "text-bg-danger",
    Health.SILENT: "text-bg-warning",
    Health.EMPTY: "text-bg-secondary",
    Health.RECORDING: "text-bg-info",
    Health.UNCHECKED: "text-bg-light border",
}


@register.inclusion_tag("calls/_recording_badge.html")
def recording_badge(health, missing_chunks=0):
    """health and missing_chunks of a Recording, or of annotations on a row (None: no badge)."""
    return {
        "label": health_label(health, missing_chunks) if health else "",
        "css": BADGE_CLASSES.get(health, "text-bg-light border"),
        "health": health,
    }
