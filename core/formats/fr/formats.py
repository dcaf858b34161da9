"""French: Django's formats (29/11/2026 14:44, 55,60, 200 000) and the project's extra names."""

from django.conf.locale.fr.formats import *  # noqa: F403

SHORT_DATETIME_SECONDS_FORMAT = "d/m/Y H:i:s"
TIME_SECONDS_FORMAT = "H:i:s"
DAY_MONTH_FORMAT = "d/m"
DAY_MONTH_TIME_FORMAT = "d/m H:i"
WEEKDAY_DAY_MONTH_FORMAT = "l d/m"
WEEKDAY_DATETIME_FORMAT = "l d/m/Y H:i"
