from django.urls import path

from companies import views

app_name = "companies"

urlpatterns = [
    path("contacts/", views.contacts, name="contacts"),
    path("campagnes/", views.campaigns, name="campaigns"),
    path("import-entreprises/", views.import_companies, name="import"),
]
