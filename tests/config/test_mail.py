"""Every e-mail's subject is one line that a header can hold, whatever text it was made from."""

from __future__ import annotations

import pytest

from config.mail import email_message, email_subject


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        ("Refund\nplease", "Refund please"),
        ("Refund\r\n\r\nBcc: x@evil.example", "Refund Bcc: x@evil.example"),
        ("a\u2028b\u2029c\x85d\x0be\x0cf\x1cg", "a b c d e f g"),
        ("nul\x00 and \ud800lone", "nul and lone"),
        ("  tabs\tand   spaces  ", "tabs and spaces"),
        ("emoji 😡 and \u202bمرحبا\u202c stay", "emoji 😡 and \u202bمرحبا\u202c stay"),  # noqa: RUF001
    ],
)
def test_a_subject_is_one_line(text: str, subject: str) -> None:
    assert email_subject(text) == subject


def test_a_long_subject_ends_in_an_ellipsis() -> None:
    subject = email_subject("word " * 100, limit=20)
    assert len(subject) == 20 and subject.endswith("…")


def test_the_message_every_sender_builds_encodes(mailoutbox) -> None:
    message = email_message(subject="Ticket:\nline two", body="Body\x00 with\nlines \ud83d", to=["a@example.com"])
    message.send()
    [sent] = mailoutbox
    assert sent.subject == "Ticket: line two"
    assert sent.body == "Body with\nlines "
    assert "line two" in sent.message().as_string()


def test_every_sender_builds_its_message_through_the_helper() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    senders = [
        str(path.relative_to(root))
        for app in ("config", "listening", "responses", "reports", "sandbox")
        for path in (root / app).rglob("*.py")
        if path.name != "mail.py"
        and any(name in path.read_text() for name in ("send_mail(", "EmailMessage(", "EmailMultiAlternatives("))
    ]
    assert senders == []
