"""Where a request may send the browser next: only to a page of this site.

Forms post a `next` field and htmx sends the `HX-Current-URL` header; both come from the
client, so a forged value could send a user to another site (an open redirect) or to a
`javascript:` URL. Every view that redirects to such a value passes it through here first.
"""

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_target(request: HttpRequest, target: str | None, default: str) -> str:
    """`target` when it is a URL of this site (relative, or on this host with an allowed
    scheme: https only when the request came over https), otherwise `default`."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
