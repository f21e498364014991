"""Writes of the reports app that people make: subscribing to the scheduled e-mail report.

The other writes are the app's own machinery, each in the module named after it: rollups
(``reports.rollups``), spike alerts (``reports.alerts``), the scheduled e-mail (``reports.scheduled``).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from listening.models import Brand
from reports.models import ReportSubscription


def report_subscription_set(*, user: AbstractBaseUser, brand: Brand, frequency: str) -> ReportSubscription:
    """Send ``user`` the brand's report daily or weekly (an unknown frequency means weekly)."""
    if frequency not in ReportSubscription.Frequency.values:
        frequency = ReportSubscription.Frequency.WEEKLY
    subscription, _created = ReportSubscription.objects.update_or_create(
        user=user, brand=brand, defaults={"frequency": frequency}
    )
    return subscription


def report_subscription_delete(*, user: AbstractBaseUser, brand: Brand) -> None:
    ReportSubscription.objects.filter(user=user, brand=brand).delete()
