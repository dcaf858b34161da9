from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("export/", views.export, name="export"),
    path("export/telecharger/", views.download, name="download"),
]
