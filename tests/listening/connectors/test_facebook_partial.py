"""A Facebook poll cut short by a fault among its many Graph requests keeps what it read completely.

facebook-sdk's real GraphAPI against a local Graph; a fault (a 500, a rate limit, malformed JSON) is
answered at a chosen request of a poll. Whatever the faults, once Graph answers again every post
and comment is stored exactly once, and the cursor never passes a post whose comments were not read.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listening.models import Channel, Platform
from listening.polling import channel_poll
from tests.factories import ChannelFactory
from tests.listening.connectors.conftest import Recorded, fixture_bytes
from tests.listening.connectors.test_facebook import FEED, PAGE, SINCE, TAGGED, VISITOR

JSON = {"Content-Type": "application/json; charset=utf-8"}
FAULTS = {
    "server error": (500, JSON, fixture_bytes("facebook/error_500.json")),
    "rate limit": (400, JSON, fixture_bytes("facebook/error_rate_limit.json")),
    "malformed": (200, JSON, b'{"data": [{"id": '),
}
POSTS = [f"{PAGE}_22010000000{n:04d}" for n in range(5, 0, -1)]  # newest first
REQUESTS_PER_POLL = 3 + len(POSTS)  # feed, visitor posts, tags, then each post's comments


def serve_busy_page(wire) -> set[str]:
    """Five visitor posts of today, each with comments whose times interleave across posts (so the
    newest one read moves the floor past older comments of posts not read yet); their ids."""
    wire.routes.clear()
    wire.requests.clear()
    expected = set(POSTS)
    wire.add(
        "GET",
        FEED,
        body={
            "data": [
                {
                    "id": post_id,
                    "message": f"Post {n}",
                    "created_time": f"2026-11-23T0{5 - n}:00:00+0000",
                    "from": {"name": "Visitor", "id": f"1000{n}"},
                }
                for n, post_id in enumerate(POSTS)
            ]
        },
    )
    wire.add("GET", VISITOR, fixture="facebook/empty.json")
    wire.add("GET", TAGGED, fixture="facebook/empty.json")
    for n, post_id in enumerate(POSTS):
        comments = [
            {
                "id": f"{post_id}_c{k}",
                "message": f"Comment {k} on post {n}",
                # the newest post's comments are the newest: reading it first moves the floor most
                "created_time": f"2026-11-23T{10 + 2 * (5 - n) + k:02d}:00:00+0000",
                "from": {"name": "Ana", "id": "100077"},
                **({"parent": {"id": f"{post_id}_c0"}} if k == 1 else {}),
            }
            for k in range(2)
        ]
        wire.add("GET", f"/v21.0/{post_id}/comments", body={"data": comments})
        expected |= {comment["id"] for comment in comments}
    return expected


def fault_at(wire, request_number: int | None, fault: tuple[int, dict[str, str], bytes]) -> None:
    """Answer the ``request_number``-th request from now (1-based) with ``fault``; None: no fault."""
    start = len(wire.requests)
    answer = type(wire).answer.__get__(wire)

    def faulty(recorded: Recorded) -> tuple[int, dict[str, str], bytes]:
        if request_number is not None and len(wire.requests) - start == request_number:
            return fault
        return answer(recorded)

    wire.answer = faulty


def new_channel(wire) -> Channel:
    return ChannelFactory(
        platform=Platform.FACEBOOK,
        api_base_url=wire.url,
        settings={"page_id": PAGE, "graph_version": "v21.0", "page_name": "Acme"},
        credentials={"page_access_token": "PAGE_TOKEN"},
        cursor={"since": SINCE},
    )


def stored(channel: Channel) -> list[str]:
    return list(channel.mentions.values_list("external_id", flat=True))


def test_a_fault_on_the_fifth_request_keeps_the_first_posts_comments_and_the_next_poll_reads_the_rest(db, wire):
    expected = serve_busy_page(wire)
    channel = new_channel(wire)
    fault_at(wire, 5, FAULTS["server error"])  # feed, visitor posts, tags, post 5's comments, then post 4's

    first = channel_poll(channel=channel)
    channel.refresh_from_db()
    # the fault is on the channel, as before, and the poll backs off
    assert first.error and channel.state == Channel.State.BACKING_OFF and channel.last_error
    # but the posts and the newest post's comments are stored
    assert set(stored(channel)) == set(POSTS) | {f"{POSTS[0]}_c0", f"{POSTS[0]}_c1"}
    # the posts whose comments were not read are owed from the floor they were read from
    assert channel.cursor["comments_owed"] == dict.fromkeys(POSTS[1:], SINCE)

    fault_at(wire, None, FAULTS["server error"])
    second = channel_poll(channel=channel)
    channel.refresh_from_db()
    assert second.error == "" and channel.state == Channel.State.OK
    assert sorted(stored(channel)) == sorted(expected)
    assert first.created + second.created == len(expected)
    assert "comments_owed" not in channel.cursor


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    faults=st.lists(
        st.tuples(st.integers(1, REQUESTS_PER_POLL), st.sampled_from(sorted(FAULTS))), min_size=1, max_size=3
    )
)
def test_wherever_faults_fall_every_item_is_stored_once_and_none_is_skipped(db, wire, faults):
    expected = serve_busy_page(wire)
    channel = new_channel(wire)
    created = 0
    for request_number, kind in faults:
        fault_at(wire, request_number, FAULTS[kind])
        before = set(stored(channel))
        answered = len(wire.requests)
        outcome = channel_poll(channel=channel)
        created += outcome.created
        channel.refresh_from_db()
        now = set(stored(channel))
        assert before <= now <= expected
        # what a poll read completely before its fault is kept: every post whose comments were
        # answered is stored with all its comments
        read: list[Recorded] = wire.requests[answered : answered + request_number - 1]
        for post_id in (r.path.split("/")[2] for r in read if r.path.endswith("/comments")):
            assert {f"{post_id}_c0", f"{post_id}_c1"} <= now
        if request_number <= REQUESTS_PER_POLL and outcome.error:
            assert channel.state in (Channel.State.BACKING_OFF, Channel.State.RATE_LIMITED)

    fault_at(wire, None, FAULTS["server error"])
    outcome = channel_poll(channel=channel)
    created += outcome.created
    channel.refresh_from_db()
    assert outcome.error == "" and channel.state == Channel.State.OK
    ids = stored(channel)
    assert sorted(ids) == sorted(expected)  # nothing skipped, nothing twice
    assert created == len(expected)
    assert "comments_owed" not in channel.cursor and "resume" not in channel.cursor


def test_a_post_deleted_while_its_comments_are_followed_is_dropped_and_the_channel_keeps_polling(db, wire):
    """A visitor deletes their post: Graph answers its comments with code 100 ("does not exist").
    That says nothing about the channel's token or settings, so the poll goes on to the other
    posts, the channel stays healthy and the gone post is not owed to every next poll."""
    expected = serve_busy_page(wire)
    gone = POSTS[1]
    route = next(r for r in wire.routes if r.path == f"/v21.0/{gone}/comments")
    route.responses[:] = [(400, JSON, fixture_bytes("facebook/object_gone.json"))]
    channel = new_channel(wire)
    channel.cursor = {"since": SINCE, "comments_owed": {gone: SINCE}}  # owed: read first
    channel.save(update_fields=["cursor"])

    outcome = channel_poll(channel=channel)
    channel.refresh_from_db()
    assert outcome.error == "" and channel.state == Channel.State.OK
    assert set(stored(channel)) == expected - {f"{gone}_c0", f"{gone}_c1"}
    assert "comments_owed" not in channel.cursor

    asked = len(wire.calls(f"/v21.0/{gone}/comments"))
    channel_poll(channel=channel)
    channel.refresh_from_db()
    assert channel.state == Channel.State.OK
    # the next poll still looks at it among the posts of its feed, as at any post, but only once
    assert len(wire.calls(f"/v21.0/{gone}/comments")) <= asked + 1
