"""The project's URLs without a recording playback page "calls:recording"."""

from django.urls import URLResolver, include, path

import calls.urls
from config.urls import urlpatterns as project_urlpatterns

calls_patterns = [
    pattern for pattern in calls.urls.urlpatterns if getattr(pattern, "name", "") != "recording"
]

urlpatterns = [
    pattern
    for pattern in project_urlpatterns
    if not (isinstance(pattern, URLResolver) and pattern.namespace == "calls")
] + [path("", include((calls_patterns, "calls")))]
