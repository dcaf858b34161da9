"""Each user's language: chosen in the navbar's menu, kept on the user (core.models.Profile),
so an operator gets their language on any machine.

- The menu posts to `set_language` (core/views.py), which is Django's view plus a line that
  stores the choice on the user and in the session.
- At login, the stored language goes into the session (`remember_at_login`, connected in
  core/apps.py); `UserLanguageMiddleware` then applies it to each request, without a query.
- Anonymous pages (the login page) follow Django's LocaleMiddleware: the language cookie, else
  the browser's Accept-Language, else French. The middleware keeps that cookie in step with the
  user's language, so the login page after a logout speaks it too.
"""

from django.conf import settings
from django.utils import translation

from core.models import Profile

SESSION_KEY = "naumur_language"


def supported(language: str | None) -> bool:
    return language in dict(settings.LANGUAGES)


def store(request, language: str) -> None:
    """Keep a language a signed-in user chose: on the user (any machine) and in the session
    (now). An anonymous visitor's choice is the cookie alone, set by Django's view."""
    if not supported(language) or not request.user.is_authenticated:
        return
    Profile.objects.update_or_create(user=request.user, defaults={"language": language})
    request.session[SESSION_KEY] = language


def remember_at_login(sender, request, user, **kwargs) -> None:
    """user_logged_in: the language stored on the user, if any, for the whole session."""
    if request is None:
        return
    language = Profile.objects.filter(user=user).values_list("language", flat=True).first()
    if supported(language):
        request.session[SESSION_KEY] = language


class UserLanguageMiddleware:
    """After LocaleMiddleware: a session that carries the user's language speaks it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Without a session cookie there is no session to read (the health check, a first visit).
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            language = request.session.get(SESSION_KEY)
            if supported(language):
                translation.activate(language)
                request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if not request.session.accessed:
            return response
        # Read again: logging in or choosing a language changes it during the request.
        language = request.session.get(SESSION_KEY)
        cookie = settings.LANGUAGE_COOKIE_NAME
        if (
            supported(language)
            and request.COOKIES.get(cookie) != language
            and cookie not in response.cookies
        ):
            response.set_cookie(
                cookie,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response
