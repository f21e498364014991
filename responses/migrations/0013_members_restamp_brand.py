from django.db import migrations

from listening.configuration import restamping

# The brands a person (``{row}.user_id`` or ``{row}.id``) is a member of a department of.
MEMBER_OF = (
    "SELECT d.brand_id FROM responses_department d JOIN responses_department_members m "
    "ON m.department_id = d.id WHERE m.user_id = {row}.%s"
)


class Migration(migrations.Migration):
    """The brand's configuration stamp (``listening.configuration``) renewed by any change of who is
    in its departments and of what their tickets' notices read of them: a member added or taken
    away, a member made inactive or given another e-mail or name, a member's language. Logging in
    (``last_login``) does not stamp."""

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("responses", "0012_configuration_restamps_brand"),
    ]

    operations = [
        restamping(
            tables={
                "responses_department_members": (
                    "(SELECT brand_id FROM responses_department WHERE id = {row}.department_id)"
                ),
                "responses_profile": MEMBER_OF % "user_id",
                "auth_user": {
                    "brand_of": MEMBER_OF % "id",
                    "events": ("update",),
                    "columns": ("is_active", "email", "username", "first_name", "last_name"),
                },
            }
        ),
    ]
