from __future__ import annotations

from django.urls import path

from listening import views

app_name = "listening"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("channels/", views.channel_list, name="channel_list"),
]
