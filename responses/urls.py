from __future__ import annotations

from django.urls import path

from responses.views import inbox, mentions, notifications, rules, saved, tickets

app_name = "responses"
urlpatterns = [
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/new/", inbox.inbox_new, name="inbox_new"),
    path("inbox/bulk/", inbox.inbox_bulk, name="inbox_bulk"),
    path("inbox/undo/", inbox.inbox_undo, name="inbox_undo"),
    path("inbox/views/", inbox.saved_view_save, name="saved_view_create"),
    path("saved-views/", saved.saved_view_list, name="saved_view_list"),
    path("saved-views/<int:pk>/", saved.saved_view_edit, name="saved_view_edit"),
    path("saved-views/<int:pk>/move/", saved.saved_view_move_view, name="saved_view_move"),
    path("saved-views/<int:pk>/delete/", saved.saved_view_delete_view, name="saved_view_delete"),
    path("saved-replies/", saved.saved_reply_list, name="saved_reply_list"),
    path("saved-replies/new/", saved.saved_reply_create, name="saved_reply_create"),
    path("saved-replies/<int:pk>/", saved.saved_reply_edit, name="saved_reply_edit"),
    path("saved-replies/<int:pk>/delete/", saved.saved_reply_delete_view, name="saved_reply_delete"),
    path("mentions/<int:pk>/", mentions.mention_detail, name="mention_detail"),
    path("mentions/<int:pk>/presence/", mentions.mention_presence, name="mention_presence"),
    path("mentions/<int:pk>/update/", mentions.mention_update, name="mention_update"),
    path("mentions/<int:pk>/replies/", mentions.reply_list, name="reply_list"),
    path("mentions/<int:pk>/replies/send/", mentions.reply_send, name="reply_send"),
    path("authors/<int:pk>/", mentions.author_detail, name="author_detail"),
    path("replies/pending/", mentions.pending_replies, name="pending_replies"),
    path("replies/<int:pk>/approve/", mentions.reply_approve_view, name="reply_approve"),
    path("replies/<int:pk>/reject/", mentions.reply_reject_view, name="reply_reject"),
    path("replies/<int:pk>/retry/", mentions.reply_retry_view, name="reply_retry"),
    path("tickets/", tickets.ticket_list, name="ticket_list"),
    path("tickets/<int:pk>/", tickets.ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/status/", tickets.ticket_status, name="ticket_status"),
    path("tickets/<int:pk>/assign/", tickets.ticket_assign_view, name="ticket_assign"),
    path("tickets/<int:pk>/notes/", tickets.ticket_note, name="ticket_note"),
    path("follow-up/", tickets.follow_up, name="follow_up"),
    path("notifications/", notifications.notification_list, name="notification_list"),
    path("notifications/read/", notifications.notification_read, name="notification_read"),
    path("rules/", rules.rule_list, name="rule_list"),
    path("rules/new/", rules.rule_edit, name="rule_create"),
    path("rules/<int:pk>/", rules.rule_edit, name="rule_edit"),
    path("rules/preview/", rules.rule_preview_view, name="rule_preview"),
    path("rules/<int:pk>/move/", rules.rule_move, name="rule_move"),
    path("rules/<int:pk>/toggle/", rules.rule_toggle, name="rule_toggle"),
    path("rules/<int:pk>/delete/", rules.rule_delete, name="rule_delete"),
]
