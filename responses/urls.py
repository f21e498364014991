from __future__ import annotations

from django.urls import path

from responses import views

app_name = "responses"
urlpatterns = [
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("rules/", views.rule_list, name="rule_list"),
]
