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
    path("contacts/<int:pk>/fuseau/", views.company_time_zone, name="company_time_zone"),
    path(
        "contacts/<int:pk>/ne-plus-appeler/",
        views.company_do_not_call,
        name="company_do_not_call",
    ),
    path("campagnes/", views.campaigns, name="campaigns"),
    path("campagnes/nouvelle/", views.campaign_create, name="campaign_create"),
    path("campagnes/<int:pk>/modifier/", views.campaign_edit, name="campaign_edit"),
    path("campagnes/<int:pk>/quotas/", views.campaign_quotas, name="campaign_quotas"),
    path(
        "campagnes/<int:pk>/quotas/<int:cell_pk>/objectif/",
        views.quota_target,
        name="quota_target",
    ),
    path(
        "campagnes/<int:pk>/quotas/<int:cell_pk>/supprimer/",
        views.quota_delete,
        name="quota_delete",
    ),
    path("ne-plus-appeler/", views.do_not_call, name="do_not_call"),
    path("ne-plus-appeler/import/", views.do_not_call_import, name="do_not_call_import"),
    path("ne-plus-appeler/<int:pk>/retirer/", views.do_not_call_remove, name="do_not_call_remove"),
    path("import-entreprises/", views.import_companies, name="import"),
    path("import-entreprises/<int:pk>/", views.import_preview, name="import_preview"),
    path("import-entreprises/<int:pk>/appliquer/", views.import_apply, name="import_apply"),
    path("import-entreprises/<int:pk>/abandonner/", views.import_discard, name="import_discard"),
    path("import-entreprises/<int:pk>/rejets.csv", views.import_rejects, name="import_rejects"),
    path("import-entreprises/<int:pk>/fichier/", views.import_file, name="import_file"),
]
