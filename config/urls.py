from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core.forms import LoginForm
from core.views import healthz

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
]

# A database that does not answer gets a French 503 page (core/unavailable.py).
handler500 = "core.unavailable.server_error"
