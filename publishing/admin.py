from __future__ import annotations

from django.contrib import admin

from publishing.models import CalendarFeed, CompetitorAccount, Post, PostEvent, PostTarget


class PostTargetInline(admin.TabularInline):
    model = PostTarget
    extra = 0
    fields = ["channel", "status", "text", "external_id", "external_url", "error", "published_at"]
    readonly_fields = ["status", "external_id", "external_url", "error", "published_at"]


class PostEventInline(admin.TabularInline):
    """The history only grows: shown, never edited here."""

    model = PostEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "actor", "target", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["__str__", "brand", "author", "scheduled_at", "created_at"]
    list_filter = ["brand"]
    search_fields = ["text"]
    raw_id_fields = ["author", "approved_by", "campaign"]
    inlines = [PostTargetInline, PostEventInline]


@admin.register(CompetitorAccount)
class CompetitorAccountAdmin(admin.ModelAdmin):
    """A competitor's public accounts: its group's label as in the brand's competitor terms."""

    list_display = ["competitor", "brand", "platform", "handle", "is_active", "last_success_at", "last_error"]
    list_filter = ["brand", "platform", "is_active"]
    search_fields = ["competitor", "handle"]
    fields = ["brand", "competitor", "platform", "handle", "is_active", "next_read_at", "last_success_at",
              "consecutive_failures", "last_error_at", "last_error"]  # fmt: skip
    readonly_fields = ["last_success_at", "consecutive_failures", "last_error_at", "last_error"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """People's calendar subscriptions: deleting one revokes its address (the token is not kept)."""

    list_display = ["user", "created_at", "last_used_at"]
    fields = ["user", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False
