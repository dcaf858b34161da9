"""The project's URLs plus a stand-in "calls:recording", to test the contacts page's links to
recordings whatever the calls app serves at the time."""

from django.http import HttpResponse
from django.urls import URLResolver, include, path

from calls import urls as calls_urls
from config import urls as project_urls


def play(request, recording_id):
    return HttpResponse(b"")


calls_patterns = [
    *(p for p in calls_urls.urlpatterns if getattr(p, "name", "") != "recording"),
    path("test-audio/<int:recording_id>/", play, name="recording"),
]

urlpatterns = [
    path("", include((calls_patterns, "calls"))),
    *(
        entry
        for entry in project_urls.urlpatterns
        if not (isinstance(entry, URLResolver) and entry.namespace == "calls")
    ),
]
