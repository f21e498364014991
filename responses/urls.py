from __future__ import annotations

from django.urls import path

from responses import views

app_name = "responses"
urlpatterns = [
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/status/", views.ticket_status, name="ticket_status"),
    path("tickets/<int:pk>/assign/", views.ticket_assign_view, name="ticket_assign"),
    path("tickets/<int:pk>/notes/", views.ticket_note, name="ticket_note"),
    path("follow-up/", views.follow_up, name="follow_up"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/read/", views.notification_read, name="notification_read"),
    path("rules/", views.rule_list, name="rule_list"),
    path("rules/new/", views.rule_edit, name="rule_create"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("rules/preview/", views.rule_preview_view, name="rule_preview"),
    path("rules/<int:pk>/move/", views.rule_move, name="rule_move"),
    path("rules/<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("mentions/<int:pk>/replies/", views.reply_list, name="reply_list"),
    path("mentions/<int:pk>/replies/send/", views.reply_send, name="reply_send"),
    path("replies/pending/", views.pending_replies, name="pending_replies"),
    path("replies/<int:pk>/approve/", views.reply_approve_view, name="reply_approve"),
    path("replies/<int:pk>/reject/", views.reply_reject_view, name="reply_reject"),
    path("replies/<int:pk>/retry/", views.reply_retry_view, name="reply_retry"),
]
