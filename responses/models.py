"""What we do about it: the inbox's saved views, replies, saved replies, departments, routing rules,
tickets, notifications, and what is sent out: webhooks and Slack and Teams posts."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from listening.fields import EncryptedTextField
from listening.models import Brand, Mention


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


def site_language() -> str:
    """The default language of what is written to a department: the site's (``LANGUAGE_CODE``)."""
    return settings.LANGUAGE_CODE


class Department(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(_("name"), max_length=120)
    email = models.EmailField(_("e-mail"), blank=True, help_text=_("Where new-ticket notifications go."))
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="departments", blank=True)
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=site_language,
        help_text=_("The language of the department's Slack and Teams messages."),
    )
    # Incoming-webhook URLs carry their own token: whoever has one can post to the channel. Kept
    # encrypted like channel credentials and never shown again in full.
    slack_webhook_url = EncryptedTextField(_("Slack incoming webhook"), blank=True)
    teams_webhook_url = EncryptedTextField(_("Microsoft Teams incoming webhook"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brand", "name"]
        constraints = [models.UniqueConstraint(fields=["brand", "name"], name="department_unique_per_brand")]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """How fast a department must acknowledge and resolve a ticket of one priority."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="sla_policies")
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices)
    acknowledge_minutes = models.PositiveIntegerField(_("acknowledge within (minutes)"))
    resolve_minutes = models.PositiveIntegerField(_("resolve within (minutes)"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["department", "priority"], name="sla_unique_per_priority")]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return f"{self.department} / {self.priority}"


class RoutingRule(models.Model):
    """An ordered rule: when a new mention meets the conditions, do the actions.

    ``conditions`` is a list of ``{"field": ..., "op": ..., "value": ...}``; ``actions`` a list of
    ``{"type": ..., ...}``. Their vocabulary is defined and validated in ``responses.routing``.
    """

    class Match(models.TextChoices):
        ALL = "all", _("All conditions")
        ANY = "any", _("Any condition")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="routing_rules")
    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    match = models.CharField(_("match"), max_length=3, choices=Match.choices, default=Match.ALL)
    conditions = models.JSONField(_("conditions"), default=list)
    actions = models.JSONField(_("actions"), default=list)
    stop_processing = models.BooleanField(_("stop here"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["brand", "position", "id"]
        indexes = [
            # Rule evaluation: a brand's active rules in order.
            models.Index(fields=["brand", "position"], name="rule_eval_order_idx", condition=Q(is_active=True)),
        ]
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING = "waiting", _("Waiting on customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    # No index of their own: the follow-up and queue indexes begin with them (see Mention's).
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="tickets", db_index=False)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="tickets", db_index=False)
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="tickets")
    rule = models.ForeignKey(RoutingRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets")
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        db_index=False,  # ticket_assignee_idx
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    resolution = models.TextField(_("resolution"), blank=True)

    created_at = models.DateTimeField(_("opened"), default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    acknowledge_due_at = models.DateTimeField(null=True, blank=True)
    resolve_due_at = models.DateTimeField(null=True, blank=True)
    acknowledge_breached_at = models.DateTimeField(null=True, blank=True)
    resolve_breached_at = models.DateTimeField(null=True, blank=True)
    followed_up_at = models.DateTimeField(
        _("public follow-up"), null=True, blank=True, help_text=_("When the customer got the public answer.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One live ticket per mention and department: routing twice must not open two.
            models.UniqueConstraint(
                fields=["mention", "department"],
                condition=~Q(status="closed"),
                name="ticket_one_open_per_mention_dept",
            ),
        ]
        indexes = [
            # A department's queue by status, newest first.
            models.Index(fields=["department", "status", "-created_at"], name="ticket_department_queue_idx"),
            # "Ready for public follow-up" in the community manager's inbox.
            models.Index(fields=["brand", "status", "-resolved_at"], name="ticket_followup_idx"),
            # The SLA sweep: live tickets whose deadlines have passed.
            models.Index(
                fields=["acknowledge_due_at"], name="ticket_ack_due_idx", condition=Q(acknowledged_at__isnull=True)
            ),
            models.Index(
                fields=["resolve_due_at"], name="ticket_resolve_due_idx", condition=Q(resolved_at__isnull=True)
            ),
            # What a deleted user leaves behind (SET NULL): tickets routing opens have no creator.
            models.Index(fields=["created_by"], name="ticket_creator_idx", condition=Q(created_by__isnull=False)),
            # "Assigned to me", and SET NULL likewise: tickets routing opens have no assignee.
            models.Index(fields=["assignee"], name="ticket_assignee_idx", condition=Q(assignee__isnull=False)),
        ]
        permissions = [("manage_all_tickets", _("Can see and work every department's tickets"))]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class TicketEvent(models.Model):
    """One line of a ticket's timeline."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Opened")
        STATUS = "status", _("Status changed")
        NOTE = "note", _("Internal note")
        ASSIGNED = "assigned", _("Assigned")
        REPLY = "reply", _("Public reply")
        BREACH = "breach", _("SLA breached")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", db_index=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, db_index=False
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="ticket_event_timeline_idx"),
            # A deleted user's (SET NULL); the events routing records have no actor.
            models.Index(fields=["actor"], name="ticket_event_actor_idx", condition=Q(actor__isnull=False)),
        ]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"

    @property
    def from_status_label(self) -> str:
        return str(Ticket.Status(self.from_status).label) if self.from_status in Ticket.Status.values else ""

    @property
    def to_status_label(self) -> str:
        return str(Ticket.Status(self.to_status).label) if self.to_status in Ticket.Status.values else ""

    @property
    def body_label(self) -> str:
        """The body as a reader sees it: a breach names its deadline in the reader's language."""
        if self.kind == self.Kind.BREACH:
            return str(BREACH_DEADLINES.get(self.body, self.body))
        return self.body


BREACH_DEADLINES = {"acknowledge": _("acknowledge deadline"), "resolve": _("resolve deadline")}


class Reply(models.Model):
    """A public answer posted through the mention's channel. The row is the idempotency key."""

    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", _("Waiting for approval")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        REJECTED = "rejected", _("Rejected")

    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="replies")
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="replies")
    text = models.TextField(_("text"))
    status = models.CharField(_("delivery"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    external_id = models.CharField(_("platform id"), max_length=255, blank=True)
    external_url = models.URLField(_("link"), max_length=2000, blank=True)
    error = models.TextField(_("error"), blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # When a worker took the row to post it; a row left "sending" long after was interrupted.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["mention", "created_at"], name="reply_thread_idx"),
            models.Index(fields=["status", "created_at"], name="reply_delivery_idx"),
        ]
        permissions = [("publish_reply", _("Can publish replies without approval"))]
        verbose_name = _("reply")
        verbose_name_plural = _("replies")

    def __str__(self) -> str:
        return f"reply {self.pk} to {self.mention_id}"


class SavedReply(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="saved_replies")
    shortcut = models.SlugField(_("shortcut"), max_length=40)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(
        _("text"),
        help_text=_("May use {{ author.name }}, {{ author.handle }}, {{ brand.name }}, {{ agent.first_name }}."),
    )
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        help_text=_("Offered on mentions in this language only; blank offers it on every mention."),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shortcut"]
        constraints = [models.UniqueConstraint(fields=["brand", "shortcut"], name="saved_reply_unique_shortcut")]
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    verb = models.CharField(max_length=32)
    message = models.CharField(max_length=500)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # The e-mail copy: a worker claims the row (a conditional UPDATE of email_claimed_at) before
    # sending, so two workers never both send it, and stamps emailed_at only once the mail server
    # took it; a failed send releases the claim for the retry. See notifications.notification_email_send.
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["user", "-created_at"], name="notification_unread_idx", condition=Q(read_at__isnull=True)
            ),
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.message


class SavedView(models.Model):
    """A named inbox filter (the query string of /inbox/), the user's own or shared with the brand."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, null=True, blank=True, related_name="saved_views")
    name = models.CharField(_("name"), max_length=120)
    query = models.CharField(_("filters"), max_length=2000, blank=True)
    shared = models.BooleanField(_("shared with the brand"), default=False)
    # The owner's order of their views in the inbox's side list (0 first).
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_view_unique_per_user")]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")

    def __str__(self) -> str:
        return self.name


# --- What is sent out: webhooks, Slack and Teams ----------------------------------------------------
class WebhookEvent(models.TextChoices):
    """What an endpoint can subscribe to; the value is the ``event`` of the payload, and stable."""

    MENTION_CREATED = "mention.created", _("Mention created")
    MENTION_ROUTED = "mention.routed", _("Mention routed")
    TICKET_OPENED = "ticket.opened", _("Ticket opened")
    TICKET_RESOLVED = "ticket.resolved", _("Ticket resolved")
    TICKET_WITHDRAWN = "ticket.withdrawn", _("Ticket withdrawn")
    TICKET_BREACHED = "ticket.breached", _("Ticket missed its SLA")
    REPLY_SENT = "reply.sent", _("Reply sent")
    REPLY_FAILED = "reply.failed", _("Reply failed")


class WebhookEndpoint(models.Model):
    """A URL that receives the events it subscribed to for one brand, each signed with its secret."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(_("URL"), max_length=2000)
    secret = EncryptedTextField(_("signing secret"))
    events = models.JSONField(_("events"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["brand", "url", "id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.description or self.url


class WebhookDelivery(models.Model):
    """One event (or one Slack or Teams post) on its way to one destination, with every attempt.

    The row is the idempotency key: a worker claims it (pending → sending) before the request, so
    a redelivered task or two workers never send it twice, and a delivered row is never sent again
    on its own. ``body`` is the exact text sent (and signed); the destination's URL and secret are
    read at sending time, never copied here.
    """

    class Target(models.TextChoices):
        ENDPOINT = "endpoint", _("Webhook")
        SLACK = "slack", "Slack"
        TEAMS = "teams", "Microsoft Teams"

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="webhook_deliveries")
    target = models.CharField(_("to"), max_length=8, choices=Target.choices)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, null=True, blank=True, related_name="chat_deliveries"
    )
    event = models.CharField(_("event"), max_length=64)
    # The event's id, the same for every destination and every re-send: receivers dedupe on it.
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, db_index=True)
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveSmallIntegerField(_("last answer"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # When the next attempt is due; a pending row long past it lost its task (see the sweep).
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    resent_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="resends", verbose_name=_("re-send of")
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(target="endpoint", endpoint__isnull=False)
                | Q(target__in=["slack", "teams"], department__isnull=False),
                name="webhook_delivery_has_destination",
            ),
        ]
        indexes = [
            # The sweep: pending rows whose attempt is overdue, sending rows whose claim is stale.
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint_idx"),
        ]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event} #{self.pk}"


class WebhookAttempt(models.Model):
    """One request of a delivery: what the destination answered, or why there was no answer."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("at"), default=timezone.now)
    duration_ms = models.PositiveIntegerField(_("took (ms)"), null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(_("answer"), null=True, blank=True)
    response_excerpt = models.TextField(_("start of the answer"), blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["delivery", "number", "id"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"


class Profile(models.Model):
    """What a person chose for themselves: the language Escucha speaks to them in, on screen and in
    what it sends them (notifications, e-mails), whoever's action caused it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language or '-'}"
