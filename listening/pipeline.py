"""The extension point of ingestion: steps that run on a batch of new mentions.

Listening stores what people said and knows nothing of what is done about it. An app that acts on
new mentions (responses routes them to departments) registers a step here from its
``AppConfig.ready()``, the way Django's signals let a higher app hook a lower one without the
lower one importing it. Steps run inside the ingestion transaction, in registration order, so a
step that fails rolls the whole batch back and the channel's cursor with it: the batch is fetched
again, and nothing is stored without having been routed. A step the database refuses as data (a
value past a column's range) is the exception: the batch is halved down to the items it refuses
on their own, which are left out and listed on the channel (``listening.ingest``), so that one
item never holds its page back for good.

Two kinds of step, run at two moments of the batch:

- A step registered ``before_store`` decides what a new mention is before its row is written
  (routing: its status, assignee, tags and routing log), so that each row is inserted once, with
  its final values, rather than inserted and then updated. The mentions it receives have their
  ids already (``config.bulk.reserve_ids``), but no rows yet, nor term links (their tracked terms
  are in ``tracked_terms``, below): it may write rows that refer to them
  (tickets, events, notifications), since foreign keys are checked at commit, and it must not
  update them nor read them back. What it changes on the instances is what gets stored.
- Every other step runs once the mentions are stored, with the values the ``before_store``
  steps gave them: the reports count them in their rollups, publishing links comments to posts,
  responses announces them (and what routing did) to the brands' webhooks.

Each new mention handed to the steps also carries ``thread_root``, not stored: the platform id of
the post its conversation hangs on, where the connector read it (X's conversation_id, the Facebook
post a comment is on), else "". Publishing links comments on the brand's own posts by it. And
``tracked_terms``, not stored either: the active tracked terms the page matched in it, what
``m.terms.all()`` reads once its term links are written.

A second list, the change steps, hears of a stored mention relabelled by the ``mention_*``
services (status, sentiment, intent), with the values it had before, inside the service's
transaction: reports moves the mention's counts in its rollups there. A mention not stored yet is
not relabelled but stored with its values: the change steps never hear of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from listening.models import Mention

NewMentionsStep = Callable[[Sequence[Mention]], None]
# A change step hears of a batch: each relabelled mention with the values it had before.
ChangeStep = Callable[[Sequence[tuple[Mention, Mapping[str, Any]]]], None]

_steps: list[NewMentionsStep] = []
_before_store_steps: list[NewMentionsStep] = []
_history_steps: set[NewMentionsStep] = set()
_change_steps: list[ChangeStep] = []


def register(
    step: NewMentionsStep, *, first: bool = False, history: bool = False, before_store: bool = False
) -> NewMentionsStep:
    """Run ``step`` on every batch of new mentions (usable as a decorator); registering twice is a no-op.

    ``first``: before the steps of its kind registered so far. ``history``: also on history
    imported without acting on it (``import_mentions --no-route``): a step that counts mentions
    (the reports' rollups) must see them; one that acts on them (routing, announcing) must not.
    ``before_store``: a step that decides a new mention's state, run before the rows are written
    (see the module's docstring).
    """
    kind = _before_store_steps if before_store else _steps
    if step not in kind:
        kind.insert(0 if first else len(kind), step)
    if history:
        _history_steps.add(step)
    return step


def steps() -> tuple[NewMentionsStep, ...]:
    return tuple(_steps)


def before_store_steps() -> tuple[NewMentionsStep, ...]:
    return tuple(_before_store_steps)


def _run(steps: Sequence[NewMentionsStep], mentions: Sequence[Mention], history: bool) -> None:
    if not mentions:
        return
    for step in steps:
        if not history or step in _history_steps:
            step(mentions)


def run_before_store(mentions: Sequence[Mention], *, history: bool = False) -> None:
    """Hand a batch of new mentions, not yet stored but with their ids, to every ``before_store``
    step, in order; with ``history`` only to those that asked for history too."""
    _run(_before_store_steps, mentions, history)


def run(mentions: Sequence[Mention], *, history: bool = False) -> None:
    """Hand a batch of just-stored mentions to every other registered step, in order; with
    ``history`` only to the steps that asked for history too."""
    _run(_steps, mentions, history)


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
