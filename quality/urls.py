from django.urls import path

from quality import views

app_name = "quality"

urlpatterns = [
    path("controle/", views.queue, name="queue"),
    path("controle/appels/<int:call_id>/", views.review, name="review"),
    path("controle/appels/<int:call_id>/corriger/", views.correct, name="correct"),
    path("controle/campagnes/<int:pk>/", views.scorecard, name="scorecard"),
    path(
        "controle/campagnes/<int:pk>/criteres-proposes/",
        views.suggested_criteria,
        name="suggested_criteria",
    ),
    path("controle/mes-evaluations/", views.my_reviews, name="my_reviews"),
    path("controle/enregistrements/<int:recording_id>/ecoutes/", views.listens, name="listens"),
]
