"""E-mail as every sender builds it: the subject is one line, whatever text it was made from.

Subjects are often made of what strangers wrote (a ticket's subject is the start of a mention),
and a line break in a header makes Django refuse the whole message (``BadHeaderError``): one
newline in a complaint would silence the alert about it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.core.mail import EmailMultiAlternatives

SUBJECT_MAX_LENGTH = 120
# What no header can encode: NUL and lone surrogates.
UNENCODABLE = re.compile(r"[\x00\ud800-\udfff]")
# Control characters, and whatever a mail client or ``str.splitlines`` reads as a line break.
LINE_BREAKING = re.compile(r"[\x01-\x1f\x7f\x85\u2028\u2029]")


def email_subject(text: str, *, limit: int = SUBJECT_MAX_LENGTH) -> str:
    """``text`` as one subject line: line breaks and control characters become spaces, runs of
    spaces one space, and a text longer than ``limit`` ends in an ellipsis."""
    line = " ".join(LINE_BREAKING.sub(" ", UNENCODABLE.sub("", str(text))).split())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


def email_message(*, subject: str, body: str, to: Sequence[str]) -> EmailMultiAlternatives:
    """The message every e-mail of Escucha starts from: one-line subject, a body that encodes."""
    return EmailMultiAlternatives(subject=email_subject(subject), body=UNENCODABLE.sub("", body), to=list(to))
