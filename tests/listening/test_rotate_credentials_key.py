"""manage.py rotate_credentials_key: every stored secret re-encrypted with the current key."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import TextField
from django.db.models.functions import Cast

from listening.models import Channel
from responses.models import Department
from tests.factories import ChannelFactory, DepartmentFactory

OLD = "old-credentials-key-" + "o" * 40
NEW = "new-credentials-key-" + "n" * 40
SLACK = "https://hooks.slack.com/services/T000/B000/XXXX"


def _raw(model, pk: int, column: str) -> str:
    """The stored token itself, not decrypted."""
    return model.objects.annotate(raw=Cast(column, TextField())).values_list("raw", flat=True).get(pk=pk)


@pytest.fixture
def stored_with_old_key(db, settings):
    settings.CREDENTIALS_KEY = OLD
    channel = ChannelFactory(credentials={"bearer_token": "t0ken"})
    department = DepartmentFactory(slack_webhook_url=SLACK)
    return channel, department


def test_secrets_stored_with_the_old_key_read_with_it_as_a_fallback_then_without_it_after_rotation(
    stored_with_old_key, settings
):
    channel, department = stored_with_old_key
    settings.CREDENTIALS_KEY, settings.CREDENTIALS_KEY_FALLBACKS = NEW, [OLD]
    assert Channel.objects.get(pk=channel.pk).credentials == {"bearer_token": "t0ken"}
    before = _raw(Channel, channel.pk, "credentials")

    out = StringIO()
    call_command("rotate_credentials_key", stdout=out)

    assert "2 stored secrets re-encrypted" in out.getvalue()
    assert _raw(Channel, channel.pk, "credentials") != before
    settings.CREDENTIALS_KEY_FALLBACKS = []
    assert Channel.objects.get(pk=channel.pk).credentials == {"bearer_token": "t0ken"}
    assert Department.objects.get(pk=department.pk).slack_webhook_url == SLACK


def test_a_secret_key_rotation_keeps_credentials_derived_from_it(db, settings):
    settings.CREDENTIALS_KEY = ""
    settings.SECRET_KEY = "old-secret-" + "s" * 50
    channel = ChannelFactory(credentials={"bearer_token": "t0ken"})
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-secret-" + "z" * 50, ["old-secret-" + "s" * 50]

    call_command("rotate_credentials_key", stdout=StringIO())

    settings.SECRET_KEY_FALLBACKS = []
    assert Channel.objects.get(pk=channel.pk).credentials == {"bearer_token": "t0ken"}


def test_dry_run_changes_nothing(stored_with_old_key, settings):
    channel, _ = stored_with_old_key
    settings.CREDENTIALS_KEY, settings.CREDENTIALS_KEY_FALLBACKS = NEW, [OLD]
    before = _raw(Channel, channel.pk, "credentials")
    out = StringIO()
    call_command("rotate_credentials_key", "--dry-run", stdout=out)
    assert "2 stored secrets would be re-encrypted" in out.getvalue()
    assert _raw(Channel, channel.pk, "credentials") == before


def test_a_secret_no_key_reads_is_reported_and_left_as_it_is_while_the_rest_rotate(stored_with_old_key, settings):
    channel, _ = stored_with_old_key
    settings.CREDENTIALS_KEY = "a-key-nobody-kept-" + "k" * 40
    lost = ChannelFactory(credentials={"bearer_token": "lost"})
    lost_token = _raw(Channel, lost.pk, "credentials")
    settings.CREDENTIALS_KEY, settings.CREDENTIALS_KEY_FALLBACKS = NEW, [OLD]

    with pytest.raises(CommandError, match=rf"1 stored secrets could not be read.*listening.Channel {lost.pk}"):
        call_command("rotate_credentials_key", stdout=StringIO())

    # never overwritten with the empty value it reads as: the key it was stored with may turn up
    assert _raw(Channel, lost.pk, "credentials") == lost_token
    settings.CREDENTIALS_KEY_FALLBACKS = []
    assert Channel.objects.get(pk=channel.pk).credentials == {"bearer_token": "t0ken"}
