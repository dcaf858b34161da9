from django.urls import path

from companies import views

app_name = "companies"

urlpatterns = [
    path("contacts/", views.contacts, name="contacts"),
    path("contacts/<int:pk>/", views.company_detail, name="company"),
    path("contacts/<int:pk>/rouvrir/", views.company_reopen, name="company_reopen"),
    path("contacts/<int:pk>/liberer/", views.company_release, name="company_release"),
    path("contacts/<int:pk>/personnes/", views.people, name="people"),
    path("contacts/<int:pk>/personnes/ajouter/", views.person_add, name="person_add"),
    path("contacts/<int:pk>/personnes/<int:person_id>/", views.person_edit, name="person_edit"),
    path("contacts/<int:pk>/numeros/ajouter/", views.number_add, name="number_add"),
    path("contacts/<int:pk>/notes/epingler/", views.note_pin, name="note_pin"),
    path("contacts/<int:pk>/notes/<int:note_id>/detacher/", views.note_unpin, name="note_unpin"),
    path("campagnes/", views.campaigns, name="campaigns"),
    path("campagnes/nouvelle/", views.campaign_create, name="campaign_create"),
    path("campagnes/<int:pk>/modifier/", views.campaign_edit, name="campaign_edit"),
    path("import-entreprises/", views.import_companies, name="import"),
    path("import-entreprises/<int:pk>/", views.import_preview, name="import_preview"),
    path("import-entreprises/<int:pk>/appliquer/", views.import_apply, name="import_apply"),
    path("import-entreprises/<int:pk>/abandonner/", views.import_discard, name="import_discard"),
    path("import-entreprises/<int:pk>/rejets.csv", views.import_rejects, name="import_rejects"),
    path("import-entreprises/<int:pk>/fichier/", views.import_file, name="import_file"),
]
