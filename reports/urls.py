from __future__ import annotations

from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("reports/", views.report, name="report"),
    path("reports/pdf/", views.report_pdf, name="report_pdf"),
    path("reports/subscribe/", views.subscribe, name="subscribe"),
    path("reports/export/<slug:name>.csv", views.export_table, name="export_table"),
    # The inbox's filters, as CSV: here rather than in listening/ because it is an export.
    path("inbox/export.csv", views.export_mentions, name="export_mentions"),
]
