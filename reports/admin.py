from __future__ import annotations

from django.contrib import admin

from reports.models import ReportSubscription, SpikeAlert


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "brand", "frequency", "last_sent_at"]
    list_filter = ["frequency", "brand"]
    raw_id_fields = ["user"]


@admin.register(SpikeAlert)
class SpikeAlertAdmin(admin.ModelAdmin):
    list_display = ["brand", "hour", "count", "baseline", "created_at"]
    list_filter = ["brand"]
