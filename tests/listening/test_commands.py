"""The listening commands: importing a file and polling from the shell."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from listening import polling
from listening.connectors import FetchResult
from listening.models import Mention
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def test_import_mentions_keeps_good_lines_reports_bad_ones_and_is_idempotent(team, tmp_path):
    channel = ChannelFactory(brand=team.brand, platform="feed", settings={"url": "https://example.com/rss"})
    good = {
        "id": "a1",
        "text": "Acme's new anvil <b>rocks</b>",
        "published_at": "2026-11-20T10:00:00Z",
        "author_id": "p1",
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({"id": "a2", "text": "no date", "author_id": "p1"}),
        json.dumps({**good, "id": "a3", "url": "javascript:alert(1)"}),
        json.dumps({**good, "id": "a4", "published_at": "2026-11-21 09:00", "author_followers": "120"}),
    ]
    path = tmp_path / "mentions.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("import_mentions", str(path), "--channel", str(channel.pk), stdout=out, stderr=err)
    assert "2 mentions imported, 0 already there, 3 lines skipped." in out.getvalue()
    assert "mentions.jsonl:2: skipped, not JSON" in err.getvalue()
    assert "mentions.jsonl:3: skipped, missing created_at" in err.getvalue()
    assert "mentions.jsonl:4: skipped, url must be http:// or https://" in err.getvalue()
    assert Mention.objects.get(external_id="a1").text == good["text"]
    assert Mention.objects.get(external_id="a4").author.followers == 120

    out = StringIO()
    call_command("import_mentions", str(path), "--channel", str(channel.pk), stdout=out, stderr=StringIO())
    assert "0 mentions imported, 2 already there, 3 lines skipped." in out.getvalue()


def test_import_mentions_reads_csv(team, tmp_path):
    channel = ChannelFactory(brand=team.brand)
    path = tmp_path / "m.csv"
    path.write_text('id,text,published_at,author_id,author_handle\n9,"Hola, Acme",2026-11-20T10:00:00+01:00,u,ana\n')
    call_command("import_mentions", str(path), "--channel", str(channel.pk), stdout=StringIO())
    mention = Mention.objects.get(external_id="9")
    assert (mention.text, mention.author.handle) == ("Hola, Acme", "ana")


def test_import_mentions_refuses_a_missing_channel_or_file(team, tmp_path):
    (tmp_path / "x.jsonl").write_text("")
    with pytest.raises(CommandError, match="No channel"):
        call_command("import_mentions", str(tmp_path / "x.jsonl"), "--channel", "999")
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_mentions", str(tmp_path / "missing.jsonl"), "--channel", "1")


def test_poll_channels_reports_what_it_did(team, monkeypatch):
    channel = ChannelFactory(brand=team.brand, name="Acme on X", settings={"user_id": "1"})

    class Empty:
        def fetch(self, cursor):
            return FetchResult(items=[], cursor={"since_id": "1"})

    monkeypatch.setattr(polling, "get_connector", lambda c: Empty())
    out = StringIO()
    call_command("poll_channels", "--channel", str(channel.pk), stdout=out)
    assert f"{channel.pk} Acme on X: 0 new, 0 known, 1 pages" in out.getvalue()
    with pytest.raises(CommandError, match="No channel with id 999"):
        call_command("poll_channels", "--channel", "999")


def test_import_mentions_takes_the_documented_columns(team, tmp_path):
    channel = ChannelFactory(brand=team.brand)
    path = tmp_path / "history.csv"
    path.write_text(
        "external_id,text,author,created_at,url\n"
        "t-1,Acme rocks,@ana,2025-06-01T08:00:00Z,https://x.com/ana/status/1\n"
        "t-2,no author,,2025-06-01T09:00:00Z,\n"
    )
    err = StringIO()
    call_command("import_mentions", str(path), "--channel", str(channel.pk), stdout=StringIO(), stderr=err)
    mention = Mention.objects.get(external_id="t-1")
    assert (mention.author.handle, mention.url) == ("ana", "https://x.com/ana/status/1")
    assert "history.csv:3: skipped, missing author" in err.getvalue()


def test_import_mentions_can_skip_routing_for_history(team, tmp_path, monkeypatch):
    routed: list[str] = []
    monkeypatch.setattr("listening.pipeline._steps", [lambda ms: routed.extend(m.external_id for m in ms)])
    channel = ChannelFactory(brand=team.brand)
    path = tmp_path / "old.jsonl"
    row = {"external_id": "old-1", "text": "refund!", "author": "ana", "created_at": "2024-01-01T00:00:00Z"}
    path.write_text(json.dumps(row))
    call_command("import_mentions", str(path), "--channel", str(channel.pk), "--no-route", stdout=StringIO())
    assert Mention.objects.filter(external_id="old-1").exists() and routed == []
    path.write_text(json.dumps({**row, "external_id": "new-1"}))
    call_command("import_mentions", str(path), "--channel", str(channel.pk), stdout=StringIO())
    assert routed == ["new-1"]


@pytest.mark.postgres  # PostgreSQL refuses NUL in text; SQLite stores it
def test_import_mentions_stores_a_row_with_a_nul_and_every_other_row_of_its_batch(team, tmp_path):
    channel = ChannelFactory(brand=team.brand)
    row = {"published_at": "2026-11-20T10:00:00Z", "author_id": "p1"}
    lines = [
        json.dumps({**row, "id": "n1", "text": "Acme before"}),
        json.dumps({**row, "id": "n2", "text": "Acme\u0000 nul", "author_name": "Nu\u0000l"}),
        json.dumps({**row, "id": "n3", "text": "Acme after"}),
    ]
    path = tmp_path / "nul.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert "\\u0000" in path.read_text()
    out, err = StringIO(), StringIO()
    call_command("import_mentions", str(path), "--channel", str(channel.pk), stdout=out, stderr=err)
    assert "3 mentions imported, 0 already there, 0 lines skipped." in out.getvalue()
    assert Mention.objects.get(external_id="n2").text == "Acme nul"

    csv_path = tmp_path / "nul.csv"
    csv_path.write_text(
        "id,text,published_at,author_id\nc1,Acme\x00 csv,2026-11-20T10:00:00Z,p2\nc2,ok,2026-11-20T10:00:00Z,p2\n"
    )
    call_command("import_mentions", str(csv_path), "--channel", str(channel.pk), stdout=StringIO())
    assert Mention.objects.get(external_id="c1").text == "Acme csv"
    assert Mention.objects.filter(external_id="c2").exists()


def test_import_mentions_reports_rows_the_database_refuses_by_line_and_keeps_the_rest(team, tmp_path):
    channel = ChannelFactory(brand=team.brand)
    row = {"published_at": "2026-11-20T10:00:00Z", "text": "Acme"}
    lines = [
        json.dumps({**row, "id": "r1", "author_id": "p1"}),
        json.dumps({**row, "id": "r2", "author_id": "liar", "author_followers": "99999999999999999999"}),
        json.dumps({**row, "id": "r3", "author_id": "p3"}),
    ]
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("import_mentions", str(path), "--channel", str(channel.pk), stdout=out, stderr=err)
    assert "2 mentions imported, 0 already there, 1 lines skipped." in out.getvalue()
    assert "big.jsonl:2: skipped, " in err.getvalue()
    assert sorted(Mention.objects.values_list("external_id", flat=True)) == ["r1", "r3"]


def test_import_mentions_reports_a_line_that_is_not_utf8_and_keeps_the_rest(team, tmp_path):
    channel = ChannelFactory(brand=team.brand)
    good = json.dumps({"id": "u1", "text": "Acme", "published_at": "2026-11-20T10:00:00Z", "author_id": "p"})
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(
        good.encode() + b"\n" + b'{"id": "u2", "text": "caf\xe9"}\n' + good.replace("u1", "u3").encode() + b"\n"
    )
    out, err = StringIO(), StringIO()
    call_command("import_mentions", str(path), "--channel", str(channel.pk), stdout=out, stderr=err)
    assert "2 mentions imported, 0 already there, 1 lines skipped." in out.getvalue()
    assert "latin1.jsonl:2: skipped, not UTF-8 text" in err.getvalue()

    csv_path = tmp_path / "latin1.csv"
    csv_path.write_bytes(
        b"id,text,published_at,author_id\nv1,caf\xe9,2026-11-20T10:00:00Z,p\nv2,Acme,2026-11-20T10:00:00Z,p\n"
    )
    out, err = StringIO(), StringIO()
    call_command("import_mentions", str(csv_path), "--channel", str(channel.pk), stdout=out, stderr=err)
    assert "1 mentions imported, 0 already there, 1 lines skipped." in out.getvalue()
    assert "latin1.csv:2: skipped, not UTF-8 text" in err.getvalue()


@pytest.mark.parametrize("channel_id", ["\u0661\u0662", "²", str(2**64), "0"])
def test_commands_read_channel_ids_strictly(team, tmp_path, channel_id):
    # "١٢" would be channel 12 to int(); a channel id is ASCII digits within the database's integers.
    ChannelFactory(brand=team.brand, pk=12)
    (tmp_path / "x.jsonl").write_text("")
    for command, args in (("poll_channels", []), ("import_mentions", [str(tmp_path / "x.jsonl")])):
        with translation.override("en"), pytest.raises(CommandError, match="Must be a whole number"):
            call_command(command, *args, "--channel", channel_id, stdout=StringIO(), stderr=StringIO())


def test_import_mentions_skips_a_follower_count_no_column_can_hold(team, tmp_path):
    channel = ChannelFactory(brand=team.brand)
    row = {"id": "a1", "text": "hi", "published_at": "2026-11-20T10:00:00Z", "author_id": "p1"}
    lines = [json.dumps({**row, "author_followers": "9" * 12}), json.dumps({**row, "id": "a2"})]
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    err = StringIO()
    call_command("import_mentions", str(path), "--channel", str(channel.pk), stdout=StringIO(), stderr=err)
    assert "m.jsonl:1: skipped, author_followers is not a whole number" in err.getvalue()
    assert list(Mention.objects.values_list("external_id", flat=True)) == ["a2"]
