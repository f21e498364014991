"""The composer: one text for every channel, a text of its own where a platform needs it, a link, a
campaign and a time in the brand's time zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from listening.models import Brand, Channel, TrackedTerm
from publishing.models import Post
from publishing.services import publishable_channels


class PostForm(forms.Form):
    channels = forms.ModelMultipleChoiceField(
        label=_("Channels"), queryset=Channel.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 5}), strip=True)
    link = forms.URLField(label=_("Link"), required=False, assume_scheme="https", max_length=2000)
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=TrackedTerm.objects.none(), required=False)
    publish_at = forms.DateTimeField(
        label=_("Publish at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: object, brand: Brand, post: Post | None = None, **kwargs: object) -> None:
        self.brand = brand
        self.zone = ZoneInfo(brand.time_zone)
        if post is not None and "initial" not in kwargs:
            targets = list(post.targets.all())
            kwargs["initial"] = {
                "channels": [target.channel_id for target in targets],
                "text": post.text,
                "link": post.link,
                "campaign": post.campaign_id,
                "publish_at": timezone.localtime(post.scheduled_at, self.zone).replace(tzinfo=None)
                if post.scheduled_at
                else None,
                **{f"text_{t.channel_id}": t.text for t in targets if t.text != post.text},
            }
        super().__init__(*args, **kwargs)
        self.publishable = publishable_channels(brand)
        self.fields["channels"].queryset = Channel.objects.filter(pk__in=[c.pk for c in self.publishable])
        self.fields["campaign"].queryset = brand.terms.filter(kind=TrackedTerm.Kind.CAMPAIGN, is_active=True)
        self.fields["publish_at"].help_text = _(
            "In the brand's time zone (%(zone)s). Empty: publish once approved."
        ) % {"zone": brand.time_zone}
        for channel in self.publishable:
            self.fields[f"text_{channel.pk}"] = forms.CharField(
                label=_("Text for %(channel)s (%(platform)s)")
                % {"channel": channel.name, "platform": channel.get_platform_display()},
                required=False,
                strip=True,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("Leave empty to publish the text above."),
            )

    @property
    def channel_text_fields(self) -> list[forms.BoundField]:
        return [self[f"text_{channel.pk}"] for channel in self.publishable]

    @property
    def unpublishable(self) -> list[Channel]:
        ids = {channel.pk for channel in self.publishable}
        return [channel for channel in self.brand.channels.order_by("name") if channel.pk not in ids]

    def clean_publish_at(self) -> datetime | None:
        value = self.cleaned_data.get("publish_at")
        if value is None:
            return None
        # Typed in the brand's time, whatever the site's or the person's.
        return timezone.make_aware(value.replace(tzinfo=None), self.zone)

    def texts(self) -> dict[int, str]:
        return {
            channel.pk: self.cleaned_data.get(f"text_{channel.pk}") or ""
            for channel in self.publishable
            if self.cleaned_data.get(f"text_{channel.pk}")
        }

    def post_fields(self) -> dict[str, Any]:
        """What ``services.post_create`` and ``services.post_update`` take from the form."""
        data = self.cleaned_data
        return {
            "text": data["text"],
            "channels": data["channels"],
            "texts": self.texts(),
            "link": data["link"],
            "campaign": data["campaign"],
            "scheduled_at": data["publish_at"],
        }


class ScheduleForm(forms.Form):
    publish_at = forms.DateTimeField(
        label=_("Publish at"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: object, brand: Brand, **kwargs: object) -> None:
        self.zone = ZoneInfo(brand.time_zone)
        super().__init__(*args, **kwargs)
        self.fields["publish_at"].help_text = _("In the brand's time zone (%(zone)s).") % {"zone": brand.time_zone}

    def clean_publish_at(self) -> datetime:
        return timezone.make_aware(self.cleaned_data["publish_at"].replace(tzinfo=None), self.zone)
