from __future__ import annotations

from django.contrib import admin

from responses.models import (
    Department,
    Notification,
    Reply,
    RoutingRule,
    SavedReply,
    SavedView,
    SlaPolicy,
    Ticket,
    TicketEvent,
)


class SlaPolicyInline(admin.TabularInline):
    model = SlaPolicy
    extra = 0


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "email"]
    list_filter = ["brand"]
    filter_horizontal = ["members"]
    inlines = [SlaPolicyInline]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "position", "is_active", "match", "stop_processing"]
    list_filter = ["brand", "is_active"]


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    raw_id_fields = ["actor"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["id", "subject", "department", "priority", "status", "assignee", "created_at"]
    list_filter = ["status", "priority", "department"]
    raw_id_fields = ["mention", "assignee", "created_by", "rule"]
    inlines = [TicketEventInline]


@admin.register(Reply)
class ReplyAdmin(admin.ModelAdmin):
    list_display = ["id", "mention", "author", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status"]
    raw_id_fields = ["mention", "ticket", "author", "approved_by"]


@admin.register(SavedReply)
class SavedReplyAdmin(admin.ModelAdmin):
    list_display = ["shortcut", "title", "brand"]
    list_filter = ["brand"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "verb", "message", "created_at", "read_at"]
    raw_id_fields = ["user"]


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "brand", "shared", "query")
    list_filter = ("shared", "brand")
    search_fields = ("name", "user__username")
