from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from responses.chat import chat_post
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
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from responses.webhooks import (
    mask_url,
    outbound_url_error,
    webhook_delivery_resend,
    webhook_endpoint_clean,
    webhook_endpoint_create,
    webhook_endpoint_ping,
    webhook_endpoint_update,
)

SECRET_WIDGET = forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})


class SlaPolicyInline(admin.TabularInline):
    model = SlaPolicy
    extra = 0


class DepartmentForm(forms.ModelForm):
    """A department, with its Slack and Teams addresses written but never shown again in full:
    whoever has such a URL can post to the channel."""

    # (form field, model field, "remove" box). The form fields have names of their own: a model
    # field's name would let the admin copy a blank entry over the stored address.
    CHAT = (("slack_url", "slack_webhook_url", "forget_slack"), ("teams_url", "teams_webhook_url", "forget_teams"))

    slack_url = forms.CharField(
        label=_("Slack incoming webhook"), required=False, max_length=2000, widget=SECRET_WIDGET
    )
    forget_slack = forms.BooleanField(label=_("Remove the Slack address"), required=False)
    teams_url = forms.CharField(
        label=_("Microsoft Teams incoming webhook"), required=False, max_length=2000, widget=SECRET_WIDGET
    )
    forget_teams = forms.BooleanField(label=_("Remove the Teams address"), required=False)

    class Meta:
        model = Department
        fields = ["brand", "name", "email", "language", "members"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, stored_as, _forget in self.CHAT:
            stored = getattr(self.instance, stored_as)
            self.fields[name].help_text = (
                _("Stored: %(address)s. Leave blank to keep it.") % {"address": mask_url(stored)}
                if stored
                else _("New tickets and SLA breaches are posted there, in the department's language.")
            )

    def _address(self, name: str) -> str:
        url = self.cleaned_data[name].strip()
        problem = outbound_url_error(url) if url else ""
        if problem:
            raise ValidationError(problem)
        return url

    def clean_slack_url(self) -> str:
        return self._address("slack_url")

    def clean_teams_url(self) -> str:
        return self._address("teams_url")

    def save(self, commit: bool = True) -> Department:
        department = super().save(commit=False)
        for name, stored_as, forget in self.CHAT:
            if self.cleaned_data[forget]:
                setattr(department, stored_as, "")
            elif self.cleaned_data[name]:
                setattr(department, stored_as, self.cleaned_data[name])
        if commit:
            department.save()
            self.save_m2m()
        return department


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    form = DepartmentForm
    list_display = ["name", "brand", "email", "language", "chat"]
    list_filter = ["brand"]
    filter_horizontal = ["members"]
    inlines = [SlaPolicyInline]
    actions = ["post_test_message"]
    fieldsets = [
        (None, {"fields": ["brand", "name", "email", "language", "members"]}),
        (
            _("Slack and Microsoft Teams"),
            {"fields": ["slack_url", "forget_slack", "teams_url", "forget_teams"]},
        ),
    ]

    @admin.display(description=_("chat"))
    def chat(self, department: Department) -> str:
        names = [("Slack", department.slack_webhook_url), ("Microsoft Teams", department.teams_webhook_url)]
        return ", ".join(name for name, url in names if url) or "—"

    @admin.action(description=_("Post a test message to their Slack and Teams channels"), permissions=["change"])
    def post_test_message(self, request: HttpRequest, queryset: QuerySet[Department]) -> None:
        posts = 0
        for department in queryset:
            posts += len(
                chat_post(
                    department=department,
                    verb="test",
                    text=lambda: str(_("Escucha can post here: new tickets and SLA breaches will appear like this.")),
                    url=reverse("responses:ticket_list"),
                )
            )
        self.message_user(
            request,
            ngettext(
                "%(count)d message queued; its delivery is under Webhook deliveries.",
                "%(count)d messages queued; their delivery is under Webhook deliveries.",
                posts,
            )
            % {"count": posts},
            messages.SUCCESS if posts else messages.WARNING,
        )


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
    list_display = ["shortcut", "title", "brand", "language"]
    list_filter = ["brand", "language"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "verb", "message", "created_at", "read_at"]
    raw_id_fields = ["user"]


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "brand", "shared", "position", "query")
    list_filter = ("shared", "brand")
    search_fields = ("name", "user__username")


# --- Outgoing webhooks ---------------------------------------------------------------------------
class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=2000, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )
    # Not named after the model field: the admin would copy a blank entry over the stored secret.
    new_secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        max_length=500,
        widget=SECRET_WIDGET,
        help_text=_(
            "At least 16 characters, shared with the receiver, which checks each delivery's signature with it "
            '(README: Outgoing webhooks). For example: python -c "import secrets; print(secrets.token_urlsafe(32))"'
        ),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["brand", "url", "description", "events", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["new_secret"].help_text = _("Stored. Leave blank to keep it.")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "url" in data and "events" in data:
            try:
                data["events"] = webhook_endpoint_clean(
                    url=data["url"],
                    events=data["events"],
                    secret=data.get("new_secret", ""),
                    creating=not self.instance.pk,
                )
            except ValidationError as error:
                for name, problems in error.message_dict.items():
                    self.add_error("new_secret" if name == "secret" else name, problems)
        return data


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fk_name = "endpoint"
    fields = ["link", "event", "status", "attempts", "last_status_code", "created_at", "delivered_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    ordering = ["-created_at", "-id"]
    verbose_name_plural = _("latest deliveries")

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        # The ten latest only: an endpoint may have received a million.
        latest = super().get_queryset(request).order_by("-created_at", "-id").values_list("pk", flat=True)[:10]
        return super().get_queryset(request).filter(pk__in=list(latest))

    @admin.display(description=_("delivery"))
    def link(self, delivery: WebhookDelivery) -> str:
        url = reverse("admin:responses_webhookdelivery_change", args=[delivery.pk])
        return format_html('<a href="{}">#{}</a>', url, delivery.pk)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["__str__", "brand", "url", "subscribed", "is_active"]
    list_filter = ["brand", "is_active"]
    search_fields = ["url", "description"]
    inlines = [WebhookDeliveryInline]
    actions = ["send_ping"]

    @admin.display(description=_("events"))
    def subscribed(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events)

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        fields = {"url": data["url"], "events": data["events"], "is_active": data["is_active"]}
        fields["description"] = data["description"]
        if change:
            webhook_endpoint_update(endpoint=obj, secret=data["new_secret"], brand=data["brand"], **fields)
        else:
            # The admin goes on with ``obj`` (its log entry, the redirect): give it the new row's id.
            obj.pk = webhook_endpoint_create(brand=data["brand"], secret=data["new_secret"], **fields).pk

    @admin.action(description=_("Send a test event (ping)"), permissions=["change"])
    def send_ping(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        count = 0
        for endpoint in queryset.select_related("brand"):
            webhook_endpoint_ping(endpoint=endpoint)
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d test event queued; see its delivery below the endpoint.",
                "%(count)d test events queued; see each delivery below its endpoint.",
                count,
            )
            % {"count": count},
        )


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["number", "started_at", "duration_ms", "status_code", "response_excerpt", "error"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """What was sent where and what came back; read-only, but a finished delivery can be sent again."""

    list_display = ["id", "event", "destination", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "target", "event", "brand"]
    list_select_related = ["endpoint", "department"]
    readonly_fields = [
        "brand",
        "target",
        "endpoint",
        "department",
        "event",
        "event_id",
        "status",
        "attempts",
        "last_status_code",
        "error",
        "created_at",
        "next_attempt_at",
        "delivered_at",
        "resent_from",
        "body",
    ]
    exclude = ["claimed_at"]
    inlines = [WebhookAttemptInline]
    actions = ["resend"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("to"))
    def destination(self, delivery: WebhookDelivery) -> str:
        if delivery.target == WebhookDelivery.Target.ENDPOINT:
            return str(delivery.endpoint)
        return f"{delivery.get_target_display()}: {delivery.department}"

    @admin.action(description=_("Send again"), permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        sent, busy = 0, 0
        for delivery in queryset:
            try:
                webhook_delivery_resend(delivery=delivery)
            except ValidationError:
                busy += 1
                continue
            sent += 1
        if sent:
            self.message_user(
                request,
                ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.", sent)
                % {"count": sent},
            )
        if busy:
            self.message_user(
                request,
                ngettext(
                    "%(count)d delivery is still on its way and was left alone.",
                    "%(count)d deliveries are still on their way and were left alone.",
                    busy,
                )
                % {"count": busy},
                messages.WARNING,
            )
