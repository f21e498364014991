"""The four roles, as groups with permissions. A data migration creates them; this is their source.

Department staff are people in a Department's members; the group gives them the ticket permissions
and the department membership decides which tickets they see.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

COMMUNITY_MANAGER = "Community manager"
DEPARTMENT_STAFF = "Department staff"
MANAGER = "Manager"
ADMIN = "Admin"

ROLE_LABELS = {
    COMMUNITY_MANAGER: _("Community manager"),
    DEPARTMENT_STAFF: _("Department staff"),
    MANAGER: _("Manager"),
    ADMIN: _("Admin"),
}

# "app_label.codename" for each role; ADMIN gets every permission.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    COMMUNITY_MANAGER: [
        "listening.work_inbox",
        "listening.configure_brand",
        "listening.view_reports",
        "listening.view_brand",
        "listening.view_channel",
        "listening.add_channel",
        "listening.change_channel",
        "listening.view_trackedterm",
        "listening.add_trackedterm",
        "listening.change_trackedterm",
        "listening.delete_trackedterm",
        "listening.view_mention",
        "listening.change_mention",
        "listening.moderate_mention",
        "listening.view_author",
        "listening.change_author",
        "responses.view_department",
        "responses.view_routingrule",
        "responses.add_routingrule",
        "responses.change_routingrule",
        "responses.delete_routingrule",
        "responses.view_ticket",
        "responses.add_ticket",
        "responses.change_ticket",
        "responses.manage_all_tickets",
        "responses.add_ticketevent",
        "responses.view_reply",
        "responses.add_reply",
        "responses.publish_reply",
        "responses.view_savedreply",
        "responses.add_savedreply",
        "responses.change_savedreply",
        "responses.delete_savedreply",
        "publishing.view_post",
        "publishing.add_post",
        "publishing.change_post",
        "publishing.approve_post",
    ],
    DEPARTMENT_STAFF: [
        "responses.view_ticket",
        "responses.change_ticket",
        "responses.add_ticketevent",
    ],
    MANAGER: [
        "listening.view_reports",
        "listening.view_brand",
        "listening.view_channel",
        "listening.view_trackedterm",
        "listening.view_mention",
        "listening.view_author",
        "responses.view_department",
        "responses.view_routingrule",
        "responses.view_ticket",
        "responses.manage_all_tickets",
        "responses.view_reply",
        "publishing.view_post",
    ],
}
