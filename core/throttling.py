"""Login throttling: django-axes' lock per username and address, plus one per username alone.

django-axes locks a username *from one address* after AXES_FAILURE_LIMIT failures; someone
guessing a password from many addresses never reaches that limit. This handler also locks a
username, from every address, once the failures from all addresses together reach
AXES_USERNAME_FAILURE_LIMIT within the cool-off time. That limit is higher, so that the
operators sharing an office's address do not lock each other out by mistyping.

The address is REMOTE_ADDR unless AXES_IPWARE_META_PRECEDENCE_ORDER names a header first:
behind nginx every request comes from nginx, which puts the client's address in X-Real-IP
(HTTP_X_REAL_IP,REMOTE_ADDR). django-axes reads that setting only through django-ipware, which
is not installed: client_address() reads it here.
"""

import ipaddress

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The first entry of AXES_IPWARE_META_PRECEDENCE_ORDER that holds one IP address."""
    for key in settings.AXES_IPWARE_META_PRECEDENCE_ORDER:
        value = request.META.get(key, "").strip()
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:  # absent, a list, or not an address: the next one
            continue
    return None


class LoginThrottle(AxesDatabaseHandler):
    def username_failures(self, request: HttpRequest, credentials: dict | None) -> int:
        """Failed logins for this username from any address within the cool-off time."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        attempts = AccessAttempt.objects.filter(
            username=username, attempt_time__gte=get_cool_off_threshold(request)
        )
        return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0

    def username_locked(self, request: HttpRequest, credentials: dict | None) -> bool:
        limit = settings.AXES_USERNAME_FAILURE_LIMIT
        return bool(limit) and self.username_failures(request, credentials) >= limit

    def is_locked(self, request: HttpRequest, credentials: dict | None = None) -> bool:
        """Checked before every authentication attempt (django-axes' backend)."""
        return super().is_locked(request, credentials) or self.username_locked(request, credentials)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        """The failure that reaches the limit already gets the lockout page."""
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is not None and self.username_locked(request, credentials):
            request.axes_locked_out = True
            request.axes_credentials = credentials
