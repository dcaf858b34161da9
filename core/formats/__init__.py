"""Date, time and number formats per language (settings.FORMAT_MODULE_PATH).

Templates name a format instead of writing one (`{{ when|date:"SHORT_DATETIME_FORMAT" }}`), so
an English page never shows French formats. Besides Django's names, every language here defines
the few extra ones the pages need (`EXTRA_FORMATS`); tests/test_i18n.py checks they all exist.
"""

# Names a template or the code may pass to |date, |time or date_format(), beyond Django's own.
EXTRA_FORMATS = (
    "SHORT_DATETIME_SECONDS_FORMAT",  # an audit entry, a listen: day and time to the second
    "TIME_SECONDS_FORMAT",  # a draft saved, a lease, the dashboard's refresh
    "DAY_MONTH_FORMAT",  # a week's day, beside its name
    "DAY_MONTH_TIME_FORMAT",  # a callback within the coming days
    "WEEKDAY_DAY_MONTH_FORMAT",  # a column of the callback calendar
    "WEEKDAY_DATETIME_FORMAT",  # when a company becomes callable, an appointment's local time
)
