from __future__ import annotations

from django.urls import path

from responses import views

app_name = "responses"
urlpatterns = [
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("rules/", views.rule_list, name="rule_list"),
    path("mentions/<int:pk>/replies/", views.reply_list, name="reply_list"),
    path("mentions/<int:pk>/replies/send/", views.reply_send, name="reply_send"),
    path("replies/pending/", views.pending_replies, name="pending_replies"),
    path("replies/<int:pk>/approve/", views.reply_approve_view, name="reply_approve"),
    path("replies/<int:pk>/reject/", views.reply_reject_view, name="reply_reject"),
    path("replies/<int:pk>/retry/", views.reply_retry_view, name="reply_retry"),
]
