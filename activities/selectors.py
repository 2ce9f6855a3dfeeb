"""Reads of the activity log that decide what a user is shown of it."""

import json
from typing import Any

from django.db.models import QuerySet

from activities.models import Activity

# The topic of management API calls (``management_activity_record``). No operator acts in
# them, so their row is recorded under the user they concern, with the calling service's
# address and agent and the signers' names.
MANAGEMENT_TOPIC = "management"

# What an operator action's data may tell the user it concerns: what changed on their
# account. Who acted (operator, signers), from where (address, agent, request path) and
# anything else stays out.
OPERATOR_ACTION_FIELDS = (
    "state",
    "previous_state",
    "otp",
    "previous_otp",
    "role",
    "previous_role",
    "manual",
    "key",
    "value",
    "scope",
    "kyc_decision",
    "profile_id",
    "fields",
    "data_storage",
    "doc_type",
    "update_labels",
    "session_id",
    "ended",
    "passkeys",
    "credential_id",
    "reason",
)


def user_own_activities(user) -> QuerySet[Activity]:
    """The rows of what the user did, as Barong lists a user's activity: their own actions
    and, for an operator, its own operator actions; never a management call about them."""
    return Activity.objects.filter(user=user).exclude(
        category=Activity.Category.ADMIN, topic=MANAGEMENT_TOPIC
    )


def _data(row: Activity) -> dict[str, Any]:
    try:
        data = json.loads(row.data or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def user_operator_actions(user) -> list[dict[str, Any]]:
    """What operators and services did to the user's account (newest first), for the user:
    when, what and what changed, never who, from where or with which signers.

    Rows of the gateway's audit (they carry the request ``path``) record requests before
    they are served, not changes, and refused requests changed nothing: both are left out.
    """
    rows = (
        Activity.objects.filter(category=Activity.Category.ADMIN, target_uid=user.uid)
        .exclude(result=Activity.Result.DENIED)
        .order_by("-created_at", "-id")
        .iterator(chunk_size=2000)
    )
    actions = []
    for row in rows:
        data = _data(row)
        if "path" in data:
            continue
        actions.append(
            {
                "created_at": row.created_at.isoformat(),
                "by": "service" if row.topic == MANAGEMENT_TOPIC else "operator",
                "topic": row.topic,
                "action": row.action,
                "result": row.result,
                "data": {key: data[key] for key in OPERATOR_ACTION_FIELDS if key in data},
            }
        )
    return actions
