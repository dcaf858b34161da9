from django.urls import path

from calls import views

app_name = "calls"

urlpatterns = [
    path("", views.home, name="home"),
    path("appels/", views.call_list, name="list"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
