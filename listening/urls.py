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
    path("channels/<int:pk>/edit/", views.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/poll/", views.channel_poll_now, name="channel_poll_now"),
    path("brands/<slug:slug>/channels/new/<str:platform>/", views.channel_create, name="channel_create"),
    path("brands/<slug:slug>/terms/", views.term_list, name="term_list"),
    path("mentions/<int:pk>/", views.mention_detail, name="mention_detail"),
    path("mentions/<int:pk>/presence/", views.mention_presence, name="mention_presence"),
    path("mentions/<int:pk>/update/", views.mention_update, name="mention_update"),
    path("authors/<int:pk>/", views.author_detail, name="author_detail"),
    path("hooks/facebook/<int:channel_id>/", webhooks.facebook_webhook, name="facebook_webhook"),
]
