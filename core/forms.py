"""Forms every app uses: the login form and the day-picking field of date ranges."""

from datetime import date

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    """Username + password, one account per operator (never a bare shared password)."""

    username = forms.CharField(
        label=_("Identifiant"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": _(
            "Identifiant ou mot de passe incorrect. Vérifiez les majuscules et réessayez."
        ),
        "inactive": _("Ce compte est désactivé. Adressez-vous à votre superviseur."),
    }


# Days people pick stay within sensible years, far from datetime's limits (the day after
# 9999-12-31 does not exist, midnight of 0001-01-01 in Douala is before the first UTC moment).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


class DayField(forms.DateField):
    """An optional day from a date input (AAAA-MM-JJ), within FIRST_DAY..LAST_DAY."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def __init__(self, *, invalid_message, **kwargs):
        super().__init__(required=False, error_messages={"invalid": invalid_message}, **kwargs)

    def validate(self, value):
        super().validate(value)
        if value and not FIRST_DAY <= value <= LAST_DAY:
            raise forms.ValidationError(
                _("Date hors des limites (%(first)s à %(last)s).")
                % {"first": FIRST_DAY.year, "last": LAST_DAY.year},
                code="out_of_range",
            )
