"""Number formatting for the dashboard: it shows hundreds of numbers per refresh, and Django's
floatformat (Decimal arithmetic) cost a third of the render; these filters do the same job
with the locale's separators at a fraction of the cost."""

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

register = template.Library()


@register.filter
def count(value) -> str:
    """An integer with the locale's thousands grouping: 200 000 in French."""
    return number_format(value or 0, force_grouping=True)


@register.filter
def share(value, decimals: int = 1) -> str:
    """A percentage with one decimal (« 17,6 % »), or « — » when undefined (division by 0)."""
    if value is None:
        return "—"
    # Translators: a percentage; French puts a no-break space before the sign, English none.
    return gettext("%(value)s %%") % {"value": number_format(round(value, decimals), decimals)}


@register.filter
def tenths(value) -> str:
    """A quantity with one decimal and thousands grouping: 1 234,5."""
    return number_format(round(value or 0, 1), 1, force_grouping=True)


@register.filter
def tenths_or_dash(value) -> str:
    """One decimal (« 12,4 »), or « — » when undefined (no time to divide by)."""
    return "—" if value is None else tenths(value)


@register.simple_tag
def time_bar(bar) -> str:
    """An operator's small SVG bar (calls.dashboard.TimeBar): its title is its accessible name
    and its tooltip. Written here rather than in the template: the productivity table draws one
    per operator on every refresh, and this costs a fifth of the template's time."""
    rects = format_html_join(
        "",
        '<rect x="{}" width="{}" height="100%" fill="{}"/>',
        ((segment.x, segment.width, segment.colour) for segment in bar.segments),
    )
    return format_html(
        '<svg width="{}" height="{}" role="img"><title>{}</title>{}</svg>',
        bar.width,
        bar.height,
        bar.label,
        rects,
    )
