from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.http import last_modified
from django.views.i18n import JavaScriptCatalog

from core.forms import LoginForm
from core.views import healthz, set_language

# The JavaScript catalogue changes only with a deployment: browsers revalidate it against the
# server's start (pages ask for it with the language in the address, see base.html).
STARTED_AT = timezone.now()

urlpatterns = [
    path(
        "appels/acces/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("appels/deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("calls.urls")),
    path("", include("companies.urls")),
    path("", include("exports.urls")),
    path("", include("quality.urls")),
    path("", include("privacy.urls")),
    path("admin/", admin.site.urls),
    path("healthz/", healthz, name="healthz"),
    path("langue/", set_language, name="set_language"),
    path(
        "jsi18n/",
        login_not_required(last_modified(lambda request: STARTED_AT)(JavaScriptCatalog.as_view())),
        name="javascript-catalog",
    ),
]

# A database that does not answer gets a French 503 page (core/unavailable.py).
handler500 = "core.unavailable.server_error"
