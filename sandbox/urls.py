from __future__ import annotations

from django.urls import path

from sandbox import feeds, graph, instagram, linkedin, views, x, youtube
from sandbox.common import with_faults

app_name = "sandbox"
urlpatterns = [
    path("published/", views.published, name="published"),
    # X API v2, as tweepy builds it on https://api.twitter.com
    path("x/2/users/by/username/<str:username>", with_faults("x")(x.user_by_username), name="x_user_by_username"),
    path("x/2/users/<str:user_id>/mentions", with_faults("x")(x.mentions), name="x_mentions"),
    path("x/2/users/<str:user_id>/tweets", with_faults("x")(x.user_tweets), name="x_user_tweets"),
    path("x/2/tweets/search/recent", with_faults("x")(x.search), name="x_search"),
    path("x/2/tweets", with_faults("x")(x.tweets), name="x_tweets"),
    path("x/2/compliance/jobs", with_faults("x")(x.compliance_jobs), name="x_compliance_jobs"),
    path("x/2/compliance/jobs/<str:job_id>", with_faults("x")(x.compliance_job), name="x_compliance_job"),
    # The compliance job's files, as storage.googleapis.com serves them behind signed URLs
    path("x/twttr-tweet-compliance/<str:job_id>/submission", x.compliance_upload, name="x_compliance_upload"),
    path("x/twttr-tweet-compliance/<str:job_id>/results", x.compliance_results, name="x_compliance_results"),
    # Graph API, as facebook-sdk builds it on https://graph.facebook.com/
    path(
        "facebook/<str:version>/<str:object_id>/<str:edge>",
        with_faults("facebook")(graph.object_edge),
        name="graph_edge",
    ),
    path(
        "facebook/<str:version>/<str:object_id>",
        with_faults("facebook")(graph.object_lookup("facebook")),
        name="graph_object",
    ),
    path("facebook/<str:version>/", with_faults("facebook")(graph.objects), name="graph_objects"),
    # Instagram's Graph API, on the same host and client as Facebook's
    path(
        "instagram/<str:version>/<str:object_id>/<str:edge>",
        with_faults("instagram")(instagram.object_edge),
        name="instagram_edge",
    ),
    # LinkedIn's versioned REST API and OAuth, as linkedin-api-client builds them
    path("linkedin/rest/posts", with_faults("linkedin")(linkedin.posts), name="linkedin_posts"),
    path("linkedin/rest/posts/<str:urn>", with_faults("linkedin")(linkedin.post), name="linkedin_post"),
    path(
        "linkedin/rest/socialActions/<str:urn>/comments",
        with_faults("linkedin")(linkedin.comments),
        name="linkedin_comments",
    ),
    path(
        "linkedin/rest/organizationalEntityNotifications",
        with_faults("linkedin")(linkedin.notifications),
        name="linkedin_notifications",
    ),
    path(
        "linkedin/rest/socialMetadata/<str:urn>",
        with_faults("linkedin")(linkedin.social_metadata),
        name="linkedin_social_metadata",
    ),
    path(
        "linkedin/rest/organizationalEntityShareStatistics",
        with_faults("linkedin")(linkedin.share_statistics),
        name="linkedin_share_statistics",
    ),
    path("linkedin/oauth/v2/accessToken", linkedin.access_token, name="linkedin_token"),
    path(
        "instagram/<str:version>/<str:object_id>",
        with_faults("instagram")(instagram.account_node),
        name="instagram_node",
    ),
    # YouTube Data API v3, as googleapiclient builds it from its discovery document and api_endpoint
    path(
        "youtube/youtube/v3/commentThreads",
        with_faults("youtube")(youtube.comment_threads),
        name="youtube_comment_threads",
    ),
    path("youtube/youtube/v3/comments", with_faults("youtube")(youtube.comments), name="youtube_comments"),
    path("youtube/youtube/v3/videos", with_faults("youtube")(youtube.videos), name="youtube_videos"),
    path("youtube/token", youtube.token, name="youtube_token"),
    path("feed/rss.xml", with_faults("feed")(feeds.rss), name="feed_rss"),
]
