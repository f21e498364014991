from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from listening.models import (
    AnalyzerModel,
    Author,
    Brand,
    BrandMembership,
    Channel,
    HashtagSearch,
    Mention,
    MentionEvent,
    PrivacyAuditEntry,
    TrackedTerm,
)


class TrackedTermInline(admin.TabularInline):
    model = TrackedTerm
    extra = 0


class MembershipInline(admin.TabularInline):
    model = BrandMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "require_reply_approval"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]
    inlines = [TrackedTermInline, MembershipInline]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "platform", "state", "is_active", "last_success_at", "next_poll_at"]
    list_filter = ["platform", "state", "is_active", "brand"]
    search_fields = ["name"]
    # Credentials are written through the channel form of the app or the API, never shown.
    exclude = ["credentials"]
    readonly_fields = [
        "state",
        "last_polled_at",
        "last_success_at",
        "last_error_at",
        "last_error",
        "consecutive_failures",
        "rate_limit_remaining",
        "rate_limit_reset_at",
        "newest_item_at",
        "threads_deferred",
        "deletion_check",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Channel | None = None) -> list[str]:
        # Where a channel connects changes only where its credentials can be given again with it
        # (the channel form, the API): a stored secret never follows a new address on its own.
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "api_base_url", "settings"] if obj is not None else fields


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["handle", "name", "platform", "followers", "verified", "is_internal"]
    list_filter = ["platform", "verified", "is_internal"]
    search_fields = ["handle", "name", "external_id"]


@admin.register(Mention)
class MentionAdmin(admin.ModelAdmin):
    list_display = ["external_id", "brand", "channel", "author", "sentiment", "intent", "status", "published_at"]
    list_filter = ["status", "sentiment", "intent", "kind", "channel__platform"]
    search_fields = ["external_id", "text"]
    raw_id_fields = ["author", "parent", "channel", "assignee", "sentiment_corrected_by", "intent_corrected_by"]
    filter_horizontal = ["terms"]
    show_full_result_count = False  # a count(*) over millions of rows on every page is not free


@admin.register(HashtagSearch)
class HashtagSearchAdmin(admin.ModelAdmin):
    """Instagram's hashtag look-ups: what counts against an account's 30 a week (``listening.hashtags``)."""

    list_display = ("name", "ig_user_id", "hashtag_id", "searched_at")
    search_fields = ("name", "ig_user_id")
    readonly_fields = ("ig_user_id", "name", "hashtag_id", "searched_at")


@admin.register(MentionEvent)
class MentionEventAdmin(admin.ModelAdmin):
    list_display = ["mention", "kind", "actor", "old_value", "new_value", "created_at"]
    raw_id_fields = ["mention", "actor"]


@admin.register(AnalyzerModel)
class AnalyzerModelAdmin(admin.ModelAdmin):
    """Read-only: the nightly training writes these rows; the weights are never shown or edited."""

    list_display = ["brand", "language", "target", "in_use", "model_accuracy", "builtin_accuracy", "trained_at"]
    list_filter = ["target", "language", "in_use", "brand"]
    exclude = ["weights"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AnalyzerModel | None = None) -> bool:
        return False


@admin.register(PrivacyAuditEntry)
class PrivacyAuditEntryAdmin(admin.ModelAdmin):
    """The record of exports and erasures: read, never written or removed by hand."""

    list_display = ["created_at", "actor", "action", "mode", "suppressed", "subject", "total"]
    list_filter = ["action", "mode", "suppressed"]
    search_fields = ["subject"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PrivacyAuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PrivacyAuditEntry | None = None) -> bool:
        return False
