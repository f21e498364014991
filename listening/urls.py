from __future__ import annotations

from django.urls import path

from listening import views, webhooks

app_name = "listening"
urlpatterns = [
    path("channels/", views.channel_list, name="channel_list"),
    path("channels/<int:pk>/edit/", views.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/poll/", views.channel_poll_now, name="channel_poll_now"),
    path("brands/<slug:slug>/channels/new/<str:platform>/", views.channel_create, name="channel_create"),
    path("brands/<slug:slug>/terms/", views.term_list, name="term_list"),
    path("privacy/", views.privacy, name="privacy"),
    path("privacy/people/<int:pk>/", views.privacy_person, name="privacy_person"),
    path("privacy/people/<int:pk>/export/", views.privacy_person_export, name="privacy_person_export"),
    path("privacy/log/", views.privacy_log, name="privacy_log"),
    path("privacy/retention/", views.privacy_retention, name="privacy_retention"),
    path("hooks/facebook/<int:channel_id>/", webhooks.facebook_webhook, name="facebook_webhook"),
    path("hooks/instagram/<int:channel_id>/", webhooks.instagram_webhook, name="instagram_webhook"),
]
