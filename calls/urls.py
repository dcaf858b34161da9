from django.urls import path

from calls import views

app_name = "calls"

urlpatterns = [
    path("", views.home, name="home"),
    path("appels/", views.call_list, name="list"),
    path("appels/verrous/", views.lock_states, name="lock_states"),
    path("appels/suivant/", views.next_call, name="next"),
    path("appels/<int:company_id>/lancer/", views.start_call, name="start"),
    path("appels/<int:company_id>/remplir/", views.fill, name="fill"),
    path("appels/<int:company_id>/valider/", views.submit, name="submit"),
    path("appels/<int:company_id>/bail/", views.renew, name="renew"),
    path("appels/<int:company_id>/abandonner/", views.abandon, name="abandon"),
    path("appels/<int:company_id>/ne-plus-appeler/", views.do_not_call, name="do_not_call"),
    path("appels/<int:company_id>/lecture/", views.player, name="player"),
    path("appels/<int:company_id>/micro/", views.recording_start, name="recording_start"),
    path(
        "appels/<int:company_id>/refus-enregistrement/",
        views.recording_refused,
        name="recording_refused",
    ),
    path(
        "enregistrements/<int:recording_id>/morceaux/<int:index>/",
        views.recording_chunk,
        name="recording_chunk",
    ),
    path("enregistrements/<int:recording_id>/fin/", views.recording_stop, name="recording_stop"),
    path("enregistrements/<int:recording_id>/", views.recording, name="recording"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("rappels/", views.callbacks, name="callbacks"),
    path("rappels/confier/", views.callbacks_hand_over, name="callbacks_hand_over"),
    path("dashboard/productivite.csv", views.dashboard_productivity, name="dashboard_productivity"),
]
