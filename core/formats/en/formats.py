"""English as Cameroon writes it (British usage): the day before the month and the 24-hour
clock, like the French pages, so that a bilingual team reads one appointment the same way in
both languages (29/11/2026 14:44, 29 November 2026); a decimal point and comma grouping for
numbers (55.60, 200,000). Django's plain `en` would show 11/29/2026 2:44 p.m."""

DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y, H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # '2026-11-29' (what date inputs send)
    "%d/%m/%Y",  # '29/11/2026'
    "%d/%m/%y",  # '29/11/26'
]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S.%f",
    "%d/%m/%Y %H:%M",
    "%d/%m/%y %H:%M",
]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3

SHORT_DATETIME_SECONDS_FORMAT = "d/m/Y H:i:s"
TIME_SECONDS_FORMAT = "H:i:s"
DAY_MONTH_FORMAT = "d/m"
DAY_MONTH_TIME_FORMAT = "d/m H:i"
WEEKDAY_DAY_MONTH_FORMAT = "l d/m"
WEEKDAY_DATETIME_FORMAT = "l d/m/Y H:i"
