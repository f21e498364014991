from __future__ import annotations

from django.urls import path

from sandbox import feeds, graph, x, youtube

app_name = "sandbox"
urlpatterns = [
    # X API v2, as tweepy builds it on https://api.twitter.com
    path("x/2/users/<str:user_id>/mentions", x.mentions, name="x_mentions"),
    path("x/2/tweets/search/recent", x.search, name="x_search"),
    path("x/2/tweets", x.tweets, name="x_tweets"),
    # Graph API, as facebook-sdk builds it on https://graph.facebook.com/
    path("facebook/<str:version>/<str:object_id>/<str:edge>", graph.object_edge, name="graph_edge"),
    # YouTube Data API v3, as googleapiclient builds it from its discovery document and api_endpoint
    path("youtube/youtube/v3/commentThreads", youtube.comment_threads, name="youtube_comment_threads"),
    path("youtube/youtube/v3/comments", youtube.comments, name="youtube_comments"),
    path("youtube/token", youtube.token, name="youtube_token"),
    path("feed/rss.xml", feeds.rss, name="feed_rss"),
]
