from django.db import migrations

from listening.configuration import restamping


class Migration(migrations.Migration):
    """The brand's configuration stamp (``listening.configuration``) renewed by any change of its
    routing rules, departments, their SLA policies and its webhook endpoints."""

    dependencies = [
        ("listening", "0021_brand_configuration_stamp"),
        ("responses", "0011_fewer_indexes_written"),
    ]

    operations = [
        restamping(
            tables={
                "responses_routingrule": "{row}.brand_id",
                "responses_department": "{row}.brand_id",
                "responses_slapolicy": "(SELECT brand_id FROM responses_department WHERE id = {row}.department_id)",
                "responses_webhookendpoint": "{row}.brand_id",
            }
        ),
    ]
