from __future__ import annotations

from django.urls import path

from sandbox import views

app_name = "sandbox"
urlpatterns = [
    # X API v2, as tweepy builds it on https://api.twitter.com
    path("x/2/users/<str:user_id>/mentions", views.x_mentions, name="x_mentions"),
    path("x/2/tweets/search/recent", views.x_search, name="x_search"),
    path("x/2/tweets", views.x_tweets, name="x_tweets"),
    # Graph API, as facebook-sdk builds it on https://graph.facebook.com/
    path("facebook/<str:version>/<str:object_id>/<str:edge>", views.graph_edge, name="graph_edge"),
    # YouTube Data API v3, as googleapiclient builds it from its discovery document and api_endpoint
    path("youtube/youtube/v3/commentThreads", views.youtube_comment_threads, name="youtube_comment_threads"),
    path("youtube/youtube/v3/comments", views.youtube_comments, name="youtube_comments"),
    path("youtube/token", views.youtube_token, name="youtube_token"),
    path("feed/rss.xml", views.feed_rss, name="feed_rss"),
]
