"""The extension point at the end of ingestion: steps that run on new mentions once they are stored.

Listening stores what people said and knows nothing of what is done about it. An app that acts on
new mentions (responses routes them to departments) registers a step here from its
``AppConfig.ready()``, the way Django's signals let a higher app hook a lower one without the
lower one importing it. Steps run inside the ingestion transaction, in registration order, so a
step that fails rolls the whole batch back and the channel's cursor with it: the batch is fetched
again, and nothing is stored without having been routed.

Each new mention handed to the steps also carries ``thread_root``, not stored: the platform id of
the post its conversation hangs on, where the connector read it (X's conversation_id, the Facebook
post a comment is on), else "". Publishing links comments on the brand's own posts by it.

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


# --- Erasure and export of a person's data (``listening.privacy``) ------------------------------
# An erase step hears of a batch of mentions about to be erased, still as stored (text, author),
# with the mode ("anonymise" or "delete") and the reason, inside the erasure's transaction. It
# removes what its app holds about them and returns how many of its rows it changed, by table
# ("responses.Reply": 3), for the audit log. An export step returns what its app holds about a
# person's mentions, by section ("tickets": [...]), as JSON-ready rows.
EraseStep = Callable[[Sequence[Mention], str, str], Mapping[str, int]]
ExportStep = Callable[[Sequence[Mention]], Mapping[str, list[dict[str, Any]]]]

_erase_steps: list[EraseStep] = []
_export_steps: list[ExportStep] = []


def register_erase(step: EraseStep) -> EraseStep:
    """Run ``step(mentions, mode, reason)`` on every batch of mentions being erased; twice is a no-op."""
    if step not in _erase_steps:
        _erase_steps.append(step)
    return step


def erasing(mentions: Sequence[Mention], mode: str, reason: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for step in _erase_steps:
        for table, n in step(mentions, mode, reason).items():
            counts[table] = counts.get(table, 0) + n
    return counts


def register_export(step: ExportStep) -> ExportStep:
    """Add ``step(mentions)``'s sections to every export of a person's data; twice is a no-op."""
    if step not in _export_steps:
        _export_steps.append(step)
    return step


def exporting(mentions: Sequence[Mention]) -> dict[str, list[dict[str, Any]]]:
    sections: dict[str, list[dict[str, Any]]] = {}
    for step in _export_steps:
        for name, rows in step(mentions).items():
            sections.setdefault(name, []).extend(rows)
    return sections
