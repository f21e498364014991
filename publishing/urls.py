from __future__ import annotations

from django.urls import path

from publishing import views

app_name = "publishing"
urlpatterns = [
    path("posts/", views.post_list, name="post_list"),
    path("posts/new/", views.post_create, name="post_create"),
    path("posts/calendar/", views.post_calendar, name="post_calendar"),
    path("posts/calendar.ics", views.post_calendar_ical, name="post_calendar_ical"),
    path("posts/competitors/", views.competitor_accounts, name="competitor_accounts"),
    path("posts/calendar/subscription/", views.calendar_subscription, name="calendar_subscription"),
    path("posts/calendar/feed/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("posts/<int:pk>/", views.post_detail, name="post_detail"),
    path("posts/<int:pk>/edit/", views.post_edit, name="post_edit"),
    path("posts/<int:pk>/submit/", views.post_submit, name="post_submit"),
    path("posts/<int:pk>/decide/", views.post_decide, name="post_decide"),
    path("posts/<int:pk>/schedule/", views.post_schedule, name="post_schedule"),
    path("posts/<int:pk>/move/", views.post_move, name="post_move"),
    path("posts/targets/<int:pk>/retry/", views.target_retry, name="target_retry"),
]
