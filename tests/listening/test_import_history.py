"""A large import: batches committed with a checkpoint, resumed after a crash or Ctrl-C, a
progress bar only on a terminal."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from listening.management.commands import import_mentions
from listening.models import ImportCheckpoint, Mention
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

BAD = {4, 13, 27}  # line numbers of the bad lines in history()


def history(tmp_path, lines=30):
    """``lines`` JSON lines, the ones in BAD broken, the others mentions m<line>."""
    rows = []
    for number in range(1, lines + 1):
        if number in BAD:
            rows.append("{broken" if number != 13 else json.dumps({"id": f"m{number}", "text": "no date"}))
        else:
            rows.append(
                json.dumps(
                    {
                        "id": f"m{number}",
                        "text": f"Acme mention {number}",
                        "created_at": "2025-01-01T10:00:00Z",
                        "author": f"user{number % 4}",
                    }
                )
            )
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def crash_on_batch(monkeypatch, k, error=None):
    """Batch ``k`` is stored, then the process dies before it commits."""
    error = error or RuntimeError("worker killed")
    real, calls = import_mentions.ingest_items, []

    def ingest(**kwargs):
        calls.append(1)
        result = real(**kwargs)
        if len(calls) == k:
            raise error
        return result

    monkeypatch.setattr(import_mentions, "ingest_items", ingest)


def run(path, channel, *extra):
    out, err = StringIO(), StringIO()
    call_command(
        "import_mentions", str(path), "--channel", str(channel.pk), "--batch-size", "5", *extra, stdout=out, stderr=err
    )
    return out.getvalue(), err.getvalue()


def test_a_crash_mid_file_resumes_after_the_last_committed_batch_storing_nothing_twice(team, tmp_path, monkeypatch):
    channel = ChannelFactory(brand=team.brand)
    path = history(tmp_path)
    crash_on_batch(monkeypatch, 3)
    err = StringIO()
    with pytest.raises(RuntimeError, match="worker killed"):
        call_command(
            "import_mentions",
            str(path),
            "--channel",
            str(channel.pk),
            "--batch-size",
            "5",
            stdout=StringIO(),
            stderr=err,
        )
    # Batches 1 and 2 (good lines 1 to 11, line 4 bad) are committed; batch 3 rolled back with its checkpoint.
    assert sorted(Mention.objects.filter(channel=channel).values_list("external_id", flat=True)) == sorted(
        f"m{n}" for n in range(1, 12) if n not in BAD
    )
    assert ImportCheckpoint.objects.get(channel=channel).line == 11
    assert "history.jsonl:4: skipped, not JSON" in err.getvalue()
    assert "resume after line 11" in err.getvalue()

    monkeypatch.undo()
    out, err = run(path, channel)
    assert "Resuming after line 11" in out
    # Nothing read twice (0 already there), nothing lost, the bad lines after the checkpoint reported.
    assert "17 mentions imported, 0 already there, 2 lines skipped." in out
    assert "history.jsonl:13: skipped, missing created_at" in err
    assert "history.jsonl:27: skipped, not JSON" in err
    assert ":4:" not in err
    stored = list(Mention.objects.filter(channel=channel).values_list("external_id", flat=True))
    assert len(stored) == len(set(stored)) == 30 - len(BAD)
    assert not ImportCheckpoint.objects.exists()  # done: a new run goes through the whole file again
    out, _ = run(path, channel)
    assert "0 mentions imported, 27 already there, 3 lines skipped." in out


def test_ctrl_c_says_where_it_stopped_and_restart_ignores_the_checkpoint(team, tmp_path, monkeypatch):
    channel = ChannelFactory(brand=team.brand)
    path = history(tmp_path)
    crash_on_batch(monkeypatch, 2, KeyboardInterrupt())
    with pytest.raises(CommandError, match="resume after line 6") as stopped:
        run(path, channel)
    assert stopped.value.returncode == 130
    assert Mention.objects.filter(channel=channel).count() == 5

    monkeypatch.undo()
    out, _ = run(path, channel, "--restart", "--no-route")
    assert "Resuming" not in out
    assert "22 mentions imported, 5 already there, 3 lines skipped." in out


def test_a_different_file_at_the_same_path_starts_from_its_first_line(team, tmp_path):
    channel = ChannelFactory(brand=team.brand)
    path = history(tmp_path)
    ImportCheckpoint.objects.create(channel=channel, path=str(path.resolve()), size=1, head_sha256="0" * 64, line=20)
    out, _ = run(path, channel)
    assert "27 mentions imported" in out
    # Another channel's checkpoint of the same file is its own.
    other = ChannelFactory(brand=team.brand)
    ImportCheckpoint.objects.create(channel=other, **import_mentions.file_identity(path), line=20)
    out, _ = run(path, channel)
    assert "0 mentions imported, 27 already there" in out


class Terminal(StringIO):
    def isatty(self):
        return True


def test_the_progress_bar_shows_on_a_terminal_only_and_not_with_quiet(team, tmp_path):
    channel = ChannelFactory(brand=team.brand)
    path = history(tmp_path)
    err = Terminal()
    call_command("import_mentions", str(path), "--channel", str(channel.pk), stdout=StringIO(), stderr=err)
    shown = err.getvalue()
    assert "30/30" in shown and "lines/s" in shown
    assert "history.jsonl:27: skipped, not JSON" in shown  # bad lines still reported, above the bar

    err = Terminal()
    call_command("import_mentions", str(path), "--channel", str(channel.pk), "--quiet", stdout=StringIO(), stderr=err)
    assert "lines/s" not in err.getvalue()
    assert "history.jsonl:27: skipped" in err.getvalue()


def test_count_lines_reads_a_last_line_without_a_newline(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"a\nb\nc")
    assert import_mentions.count_lines(path) == 3
    path.write_bytes(b"a\nb\n")
    assert import_mentions.count_lines(path) == 2
    path.write_bytes(b"")
    assert import_mentions.count_lines(path) == 0
