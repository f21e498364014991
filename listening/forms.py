"""Forms of the listening app: a channel's settings and credentials, a brand's tracked terms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from listening.connectors import connector_class
from listening.models import Author, Brand, Channel, PrivacyAuditEntry, TrackedTerm
from listening.services import (
    channel_address_errors,
    channel_create,
    channel_credentials_to_renew,
    channel_update,
    tracked_term_save,
)

# What each platform setting and credential is called on screen.
FIELD_LABELS = {
    "user_id": _("Account id (mentions of this account)"),
    "search_query": _("Search query"),
    "include_retweets": _("Include retweets"),
    "include_own_posts": _("Include the brand's own posts"),
    "max_pages": _("Pages per poll"),
    "page_id": _("Page id"),
    "graph_version": _("Graph API version"),
    "page_name": _("Page name"),
    "lookback_days": _("Days of posts to read comments from"),
    "max_comment_posts": _("Posts whose comments are read per poll"),
    "ig_user_id": _("Instagram account id (Graph API)"),
    "max_media": _("Posts whose comments are read per poll"),
    "hashtags": _("Hashtags to follow (separated by commas)"),
    "organization_id": _("LinkedIn organization id"),
    "linkedin_version": _("LinkedIn API version (YYYYMM)"),
    "skip_mentions": _("Do not read posts that mention the organization"),
    "daily_call_limit": _("Daily call limit of the LinkedIn app"),
    "channel_id": _("YouTube channel id"),
    "video_id": _("Video id"),
    "search_terms": _("Only comments with these words"),
    "url": _("Feed address"),
    "bearer_token": _("Bearer token"),
    "consumer_key": _("API key"),
    "consumer_secret": _("API key secret"),
    "access_token": _("Access token"),
    "access_token_secret": _("Access token secret"),
    "page_access_token": _("Page access token"),
    "app_secret": _("App secret"),
    "verify_token": _("Webhook verify token"),
    "api_key": _("API key"),
    "client_id": _("OAuth client id"),
    "client_secret": _("OAuth client secret"),
    "refresh_token": _("OAuth refresh token"),
}


class ChannelForm(forms.ModelForm):
    """The common fields, plus one field per platform setting and per credential.

    Credentials are never shown again: a blank credential field keeps the stored value.
    """

    api_base_url = forms.URLField(
        label=_("API base URL"),
        required=False,
        assume_scheme="https",
        help_text=_(
            "Blank uses the platform's official host. Changing it needs the stored credentials again; "
            "an address on a private network is refused unless PRIVATE_NETWORK_ALLOWLIST lists it."
        ),
    )

    class Meta:
        model = Channel
        fields = ["name", "api_base_url", "poll_interval_seconds", "is_active"]

    def __init__(self, *args: Any, platform: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.platform = platform
        self.connector = connector_class(platform)
        self.fields["poll_interval_seconds"].min_value = 10
        self.fields["poll_interval_seconds"].widget.attrs["min"] = 10
        stored_settings = self.instance.settings or {}
        stored_credentials = self.instance.credentials or {}
        for spec in self.connector.settings_fields:
            label = FIELD_LABELS.get(spec.name, spec.name)
            if spec.kind is bool:
                field: forms.Field = forms.BooleanField(label=label, required=False)
            elif spec.kind is int:
                field = forms.IntegerField(label=label, required=False, min_value=1)
            elif spec.kind is list:
                field = forms.CharField(label=label, required=False, max_length=4000)
            else:
                field = forms.CharField(label=label, required=False, max_length=500)
            field.initial = stored_settings.get(spec.name)
            if spec.kind is list and isinstance(field.initial, list):
                field.initial = ", ".join(str(item) for item in field.initial)
            self.fields[f"setting_{spec.name}"] = field
        for key in self.connector.credential_keys:
            stored = key in stored_credentials
            self.fields[f"credential_{key}"] = forms.CharField(
                label=FIELD_LABELS.get(key, key),
                required=False,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                help_text=_("Stored. Leave blank to keep it.") if stored else "",
            )

    def setting_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("setting_")]

    def credential_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("credential_")]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        raw = {
            spec.name: data.get(f"setting_{spec.name}")
            for spec in self.connector.settings_fields
            if data.get(f"setting_{spec.name}") not in (None, "")
        }
        settings, errors = self.connector.clean_settings(raw, api_base_url=data.get("api_base_url") or "")
        if not errors:
            errors = self.connector.settings_errors(settings, channel=self.instance if self.instance.pk else None)
        for key, message in errors.items():
            self.add_error(f"setting_{key}" if f"setting_{key}" in self.fields else None, message)
        given = {
            key: data[f"credential_{key}"] for key in self.connector.credential_keys if data.get(f"credential_{key}")
        }
        credentials, errors = self.connector.clean_credentials(given)
        for key, message in errors.items():
            self.add_error(f"credential_{key}", message)
        self.cleaned_settings = settings
        self.cleaned_credentials = credentials
        if "api_base_url" not in self.errors and not any(name.startswith("setting_") for name in self.errors):
            self._check_address(data.get("api_base_url") or "")
        return data

    def _check_address(self, api_base_url: str) -> None:
        channel = self.instance if self.instance.pk else None
        errors = channel_address_errors(
            platform=self.platform,
            api_base_url=api_base_url,
            settings=self.cleaned_settings,
            credentials=self.cleaned_credentials,
            channel=channel,
        )
        for field, message in errors.items():
            self.add_error(field if field in self.fields else f"setting_{field}", message)
        if channel is not None:
            for key in channel_credentials_to_renew(
                channel=channel,
                api_base_url=api_base_url,
                settings=self.cleaned_settings,
                credentials=self.cleaned_credentials,
            ):
                self.add_error(f"credential_{key}", _("Enter it again: the address changed."))

    def save(self) -> Channel:
        fields = {name: self.cleaned_data[name] for name in self._meta.fields}
        fields["settings"] = self.cleaned_settings
        if self.instance.pk is None:
            return channel_create(
                brand=self.instance.brand, platform=self.platform, credentials=self.cleaned_credentials, **fields
            )
        return channel_update(channel=self.instance, credentials=self.cleaned_credentials, **fields)


class TermForm(forms.ModelForm):
    exclusions_text = forms.CharField(
        label=_("Exclusions"),
        required=False,
        help_text=_("Phrases that cancel a match, one per line."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = TrackedTerm
        fields = ["kind", "text", "group"]

    def __init__(self, *args: Any, brand: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.brand = brand
        self.instance.brand = brand
        if self.instance.pk:
            self.fields["exclusions_text"].initial = "\n".join(self.instance.exclusions or [])

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text.lstrip("#@"):
            raise forms.ValidationError(_("A term needs a word, not only # or @."))
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        duplicate = TrackedTerm.objects.filter(
            brand=self.brand, kind=data.get("kind"), text__iexact=data.get("text") or "", is_active=True
        ).exclude(pk=self.instance.pk)
        if duplicate.exists():
            self.add_error("text", _("This brand already tracks this term."))
        return data

    def save(self) -> TrackedTerm:
        data = self.cleaned_data
        return tracked_term_save(
            brand=self.brand,
            kind=data["kind"],
            text=data["text"],
            group=data["group"],
            exclusions=data["exclusions_text"].splitlines(),
            term=self.instance if self.instance.pk else None,
        )


class PersonEraseForm(forms.Form):
    """How to erase one person, confirmed by typing their handle (or their platform id when they
    have none), as an irreversible change should be."""

    mode = forms.ChoiceField(
        label=_("Their mentions"),
        choices=[
            (
                PrivacyAuditEntry.Mode.ANONYMISE,
                _("Anonymise: keep the team's history on them, without their words or name"),
            ),
            (PrivacyAuditEntry.Mode.DELETE, _("Delete: keep only their counts in the reports")),
        ],
        initial=PrivacyAuditEntry.Mode.ANONYMISE,
        widget=forms.RadioSelect,
    )
    suppress = forms.BooleanField(
        label=_("They asked not to be processed again: drop their future mentions"), required=False
    )
    confirm = forms.CharField(label=_("Type their handle to confirm"), max_length=255, strip=True)

    def __init__(self, *args: Any, author: Author, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = author.handle or author.external_id
        if not author.handle:
            self.fields["confirm"].label = _("Type their platform id to confirm")

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].removeprefix("@")
        if typed.casefold() != self.expected.casefold():
            raise forms.ValidationError(_("What you typed does not match: nothing was erased."))
        return typed


class BrandRetentionForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = ["retention_days", "retention_mode"]
