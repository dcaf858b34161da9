"""The project's URLs plus a recording playback page "calls:recording", the URL the export links
to (another part of the project builds the real page; the export must link to it when it
exists and still work when it does not)."""

from django.http import HttpResponse
from django.urls import URLResolver, include, path

import calls.urls
from config.urls import urlpatterns as project_urlpatterns


def playback(request, recording_id):
    return HttpResponse(f"recording {recording_id}")


calls_patterns = [
    *(pattern for pattern in calls.urls.urlpatterns if getattr(pattern, "name", "") != "recording"),
    path("enregistrements/<int:recording_id>/ecouter/", playback, name="recording"),
]

urlpatterns = [
    pattern
    for pattern in project_urlpatterns
    if not (isinstance(pattern, URLResolver) and pattern.namespace == "calls")
] + [path("", include((calls_patterns, "calls")))]
