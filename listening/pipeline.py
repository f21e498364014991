"""The extension point at the end of ingestion: steps that run on new mentions once they are stored.

Listening stores what people said and knows nothing of what is done about it. An app that acts on
new mentions (responses routes them to departments) registers a step here from its
``AppConfig.ready()``, the way Django's signals let a higher app hook a lower one without the
lower one importing it. Steps run inside the ingestion transaction, in registration order, so a
step that fails rolls the whole batch back and the channel's cursor with it: the batch is fetched
again, and nothing is stored without having been routed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from listening.models import Mention

NewMentionsStep = Callable[[Sequence[Mention]], None]

_steps: list[NewMentionsStep] = []


def register(step: NewMentionsStep) -> NewMentionsStep:
    """Run ``step`` on every batch of new mentions (usable as a decorator); registering twice is a no-op."""
    if step not in _steps:
        _steps.append(step)
    return step


def steps() -> tuple[NewMentionsStep, ...]:
    return tuple(_steps)


def run(mentions: Sequence[Mention]) -> None:
    """Hand a batch of just-stored mentions to every registered step, in order."""
    if not mentions:
        return
    for step in _steps:
        step(mentions)
