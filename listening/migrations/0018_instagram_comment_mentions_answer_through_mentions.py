"""The @mentions in comments on other accounts' media stored before ``reply_route`` existed are
answered through the account's mentions edge too. Only the ``mentions`` webhook stores an Instagram
comment as a mention (kind "mention" on a media other than itself); a caption mention cannot be told
from a tag afterwards and keeps the usual way."""

from django.db import migrations
from django.db.models import F


def mark(apps, schema_editor):
    Mention = apps.get_model("listening", "Mention")
    (
        Mention.objects.filter(channel__platform="instagram", kind="mention", reply_route="")
        .exclude(source="")
        .exclude(source=F("external_id"))
        .update(reply_route="mentions")
    )


class Migration(migrations.Migration):
    dependencies = [("listening", "0017_mention_reply_route_and_hashtag_lookups")]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
