"""Moderation on the platform: a comment on the brand's own content hidden, shown again or deleted
where it was written (Instagram's and Facebook's comments, through Graph), and the act recorded in
the mention's history with who did it and when.

The platform is asked first and the mention changes only once it confirmed: a refused or failed
call leaves the mention as it was and says why.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from listening.connectors import connector_class, get_connector, scrub_error
from listening.connectors.base import Connector, ConnectorError, RateLimited
from listening.models import Mention
from listening.services import mention_set_moderation

log = logging.getLogger(__name__)

PERMISSION = "listening.moderate_mention"
# The action → the state it leaves the comment in.
ACTIONS = {
    "hide": Mention.Moderation.HIDDEN,
    "unhide": Mention.Moderation.VISIBLE,
    "delete": Mention.Moderation.DELETED,
}


def mention_moderation_actions(mention: Mention) -> list[str]:
    """The moderation actions that fit the mention now: none unless it is a comment or a reply on a
    platform that hides and deletes them, and none once it is deleted there."""
    if mention.kind not in (Mention.Kind.COMMENT, Mention.Kind.REPLY) or mention.erased_at is not None:
        return []
    if mention.moderation == Mention.Moderation.DELETED:
        return []
    if connector_class(mention.channel.platform).hide_comment is Connector.hide_comment:
        return []
    shown = "unhide" if mention.moderation == Mention.Moderation.HIDDEN else "hide"
    return [shown, "delete"]


def mention_moderate(*, mention: Mention, action: str, actor: AbstractBaseUser) -> bool:
    """Hide, show again or delete the comment on its platform, then record it on the mention.

    Returns False when the comment already was in that state. Raises ``PermissionDenied`` without
    the permission, ``ValidationError`` (a sentence for the person) for an action that does not fit
    the mention or that the platform refused.
    """
    if not actor.has_perm(PERMISSION):
        raise PermissionDenied
    if action not in ACTIONS:
        raise ValidationError(_("Unknown action."))
    target = ACTIONS[action]
    if mention.moderation == target:
        return False
    if action not in mention_moderation_actions(mention):
        raise ValidationError(_("This mention cannot be hidden or deleted on its platform."))
    platform = mention.channel.get_platform_display()
    connector = get_connector(mention.channel)
    try:
        if action == "delete":
            connector.delete_comment(mention.external_id)
        else:
            connector.hide_comment(mention.external_id, action == "hide")
    except RateLimited as exc:
        raise ValidationError(
            _("%(platform)s asks to wait before the next change; try again in a few minutes."),
            params={"platform": platform},
        ) from exc
    except ConnectorError as exc:
        log.info("mention %s: %s refused %s: %s", mention.pk, platform, action, exc)
        raise ValidationError(
            _("%(platform)s did not make the change: %(error)s"),
            params={"platform": platform, "error": scrub_error(exc, channel=mention.channel)},
        ) from exc
    with transaction.atomic():
        locked = Mention.objects.select_for_update().get(pk=mention.pk)
        changed = mention_set_moderation(mention=locked, moderation=target, actor=actor)
    mention.moderation = locked.moderation
    return changed
