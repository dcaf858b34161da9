from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("contacts/<int:pk>/effacer/", views.erase, name="erase"),
    path("contacts/<int:pk>/donnees.json", views.subject_access, name="subject_access"),
]
