"""The scheduled report e-mail: each due subscription gets the page's numbers, charts and a link."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.mime.image import MIMEImage

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.mail import UNENCODABLE, email_subject
from listening.selectors import brands_for_user
from reports import charts, pdfs, selectors, series, tables
from reports.models import ReportSubscription
from responses.preferences import user_languages

log = logging.getLogger(__name__)

FREQUENCY_DAYS = {ReportSubscription.Frequency.DAILY: 1, ReportSubscription.Frequency.WEEKLY: 7}


def scheduled_reports_send(*, now: datetime | None = None) -> int:
    """Send each due subscription its report; returns how many were sent.

    Each report is written in its subscriber's language (their profile's, else the site's). A
    subscription is claimed by a conditional UPDATE of last_sent_at, so two workers (or a
    retried task) never send the same report twice. One that fails is released for the next run
    and logged; the others are still sent.
    """
    now = now or timezone.now()
    sent = 0
    subscriptions = list(ReportSubscription.objects.select_related("user", "brand"))
    languages = user_languages(sub.user for sub in subscriptions)
    for sub in subscriptions:
        days = FREQUENCY_DAYS[sub.frequency]
        # An hour of slack so that a report sent at 08:00:05 is due again at 08:00 next time.
        if sub.last_sent_at and sub.last_sent_at > now - timedelta(days=days) + timedelta(hours=1):
            continue
        if not may_receive(sub):
            continue
        claimed = ReportSubscription.objects.filter(pk=sub.pk, last_sent_at=sub.last_sent_at).update(last_sent_at=now)
        if not claimed:
            continue
        try:
            _send_report(sub, now, days, languages[sub.user_id])
        except Exception:  # a mail server refusing one address, a report that cannot render
            log.exception("Report for subscription %s could not be sent; it is tried again next hour", sub.pk)
            ReportSubscription.objects.filter(pk=sub.pk).update(last_sent_at=sub.last_sent_at)
            continue
        sent += 1
    return sent


def may_receive(sub: ReportSubscription) -> bool:
    """Whether the subscriber may still read this report, asked again at every send: someone who
    was deactivated, lost the right to read reports or left the brand since subscribing gets
    nothing (the subscription stays, and resumes if the access comes back)."""
    user = sub.user
    return bool(
        user.is_active
        and user.email
        and user.has_perm("listening.view_reports")
        and brands_for_user(user).filter(pk=sub.brand_id).exists()
    )


def _send_report(sub: ReportSubscription, now: datetime, days: int, language: str) -> None:
    """One subscriber's report, all of it (subject, text, HTML, charts, PDF) in their language."""
    until = now.astimezone(UTC).date() - timedelta(days=1)
    period = selectors.Period(until - timedelta(days=days - 1), until)
    data = selectors.report(sub.brand, period)
    url = (
        f"{settings.SITE_URL}{reverse('reports:report')}?brand={sub.brand_id}&since={period.since}&until={period.until}"
    )
    context = {"brand": sub.brand, "period": period, "report": data, "url": url}
    with translation.override(language):
        context["bars"] = email_bars(data)
        context["figures"] = tables.headline(data)
        subject = _("%(brand)s: report %(since)s to %(until)s") % {
            "brand": sub.brand.name,
            "since": period.since,
            "until": period.until,
        }
        images = email_charts(data)
        context["charts"] = set(images)
        # The images' sizes in the HTML, so that clients lay the e-mail out before they load.
        context["chart_sizes"] = {
            "volume": charts.VOLUME_SIZE,
            "share_of_voice": charts.share_of_voice_size(len(data.share_of_voice["groups"])),
        }
        text = render_to_string("reports/email/report.txt", context)
        html = render_to_string("reports/email/report.html", context)
        pdf = pdfs.report_pdf_bytes(brand=sub.brand, period=period, language=language, data=data)
    # As config.mail.email_message builds every message: one-line subject, a body that encodes.
    message = ReportEmail(subject=email_subject(str(subject)), body=UNENCODABLE.sub("", text), to=[sub.user.email])
    message.attach_alternative(html, "text/html")
    # The charts belong to the HTML part (cid: links), so they sit with it in a multipart/related
    # rather than showing up as separate downloads; the PDF is the one real attachment.
    message.related_images = []
    for content_id, png in images.items():
        image = MIMEImage(png, "png")
        image.add_header("Content-ID", f"<{content_id}>")
        image.add_header("Content-Disposition", "inline", filename=f"{content_id}.png")
        message.related_images.append(image)
    message.attach(f"{sub.brand.slug}-report-{period.since}-{period.until}.pdf", pdf, "application/pdf")
    message.send()


class ReportEmail(EmailMultiAlternatives):
    """multipart/mixed [multipart/related [text and HTML alternatives, the HTML's chart images], PDF].

    Django puts every attachment in one container whose subtype is either "related" (then mail
    clients hide the PDF, or show the charts as downloads) or "mixed" (then the cid: images may
    not show); the report needs both, so the images are wrapped with the body here.
    """

    related_images: list[MIMEImage]

    def _create_alternatives(self, msg):
        body = super()._create_alternatives(msg)
        if not getattr(self, "related_images", None):
            return body
        related = SafeMIMEMultipart(_subtype="related", encoding=self.encoding or settings.DEFAULT_CHARSET)
        related.attach(body)
        for image in self.related_images:
            related.attach(image)
        return related


def email_charts(data: selectors.Report) -> dict[str, bytes]:
    """The report's charts as PNG images, by the Content-ID the HTML e-mail refers to them with."""
    volume = series.volume(data)
    images = {"volume": charts.volume_chart_png(volume.labels, volume.values)}
    share_of_voice = series.share_of_voice(data)
    if share_of_voice.labels:  # no tracked brand or competitor term matched: nothing to compare
        images["share-of-voice"] = charts.share_of_voice_png(share_of_voice.pairs())
    return images


def email_bars(data: selectors.Report) -> dict[str, list[dict]]:
    """The numbers beside the e-mail's chart images, as rows with a bar width in percent (CSS only):
    readable where a client blocks images, and by screen readers."""

    def bars(rows: list[tuple[str, int | float]]) -> list[dict]:
        top = max((v for _label, v in rows), default=0) or 1
        return [{"label": label, "value": value, "width": round(value / top * 100)} for label, value in rows]

    return {
        "days": bars([(day.strftime("%d %b"), n) for day, n in series.volume(data).totals().pairs()]),
        "platforms": bars(series.platforms(data).totals().pairs()),
        "share_of_voice": bars(series.share_of_voice(data).pairs()),
        "negative_terms": bars(series.negative_terms(data).pairs()),
    }
