from __future__ import annotations

from django.urls import path

from listening import views, webhooks

app_name = "listening"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/new/", views.inbox_new, name="inbox_new"),
    path("inbox/bulk/", views.inbox_bulk, name="inbox_bulk"),
    path("inbox/views/", views.saved_view_create, name="saved_view_create"),
    path("channels/", views.channel_list, name="channel_list"),
    path("hooks/facebook/<int:channel_id>/", webhooks.facebook_webhook, name="facebook_webhook"),
]
