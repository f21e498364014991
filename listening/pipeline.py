"""The extension point at the end of ingestion: steps that run on new mentions once they are stored.

Listening stores what people said and knows nothing of what is done about it. An app that acts on
new mentions (responses routes them to departments) registers a step here from its
``AppConfig.ready()``, the way Django's signals let a higher app hook a lower one without the
lower one importing it. Steps run inside the ingestion transaction, in registration order, so a
step that fails rolls the whole batch back and the channel's cursor with it: the batch is fetched
again, and nothing is stored without having been routed.

A second list, the change steps, hears of a stored mention relabelled by the ``mention_*``
services (status, sentiment, intent), with the values it had before, inside the service's
transaction: reports moves the mention's counts in its rollups there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from listening.models import Mention

NewMentionsStep = Callable[[Sequence[Mention]], None]
# A change step hears of a batch: each relabelled mention with the values it had before.
ChangeStep = Callable[[Sequence[tuple[Mention, Mapping[str, Any]]]], None]

_steps: list[NewMentionsStep] = []
_history_steps: set[NewMentionsStep] = set()
_change_steps: list[ChangeStep] = []


def register(step: NewMentionsStep, *, first: bool = False, history: bool = False) -> NewMentionsStep:
    """Run ``step`` on every batch of new mentions (usable as a decorator); registering twice is a no-op.

    ``first``: before the steps registered so far, for a step that must see the mentions as stored,
    before another step (routing) changes them. ``history``: also on history imported without
    acting on it (``import_mentions --no-route``): a step that counts mentions (the reports'
    rollups) must see them; one that acts on them (routing, announcing) must not.
    """
    if step not in _steps:
        _steps.insert(0 if first else len(_steps), step)
    if history:
        _history_steps.add(step)
    return step


def steps() -> tuple[NewMentionsStep, ...]:
    return tuple(_steps)


def run(mentions: Sequence[Mention], *, history: bool = False) -> None:
    """Hand a batch of just-stored mentions to every registered step, in order; with ``history``
    only to the steps that asked for history too."""
    if not mentions:
        return
    for step in _steps:
        if not history or step in _history_steps:
            step(mentions)


def register_change(step: ChangeStep) -> ChangeStep:
    """Run ``step([(mention, before), …])`` on every batch of relabelled mentions; registering twice
    is a no-op."""
    if step not in _change_steps:
        _change_steps.append(step)
    return step


def changed(mention: Mention, before: Mapping[str, Any]) -> None:
    """Tell every change step that ``mention`` was saved with new values for the fields in ``before``
    (field attribute name → the value it had: ``{"sentiment": "positive"}``)."""
    changed_many([(mention, before)])


def changed_many(changes: Sequence[tuple[Mention, Mapping[str, Any]]]) -> None:
    """``changed`` for a batch (routing relabels a page of mentions at once): each step hears of
    the whole batch, so it can count it in a fixed number of statements."""
    changes = [(mention, before) for mention, before in changes if before]
    if changes:
        for step in _change_steps:
            step(changes)
