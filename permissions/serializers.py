"""Inputs of the permission and restriction endpoints and the raw records they answer."""

from typing import Any

from rest_framework import serializers

from barong.api.fields import RawTime
from barong.api.params import BareInvalidInt, Bool, Int, Str
from permissions.models import Permission, Restriction

# A bigint primary key: anything larger cannot name a row (and would overflow the query).
MAX_ID = 2**63 - 1


def _non_blank(help_text: str, **kwargs: Any) -> Str:
    # Str is a CharField: a NUL (which PostgreSQL text cannot hold) is already invalid_<name>.
    return Str(allow_blank=False, help_text=help_text, **kwargs)


class OneOf(Str):
    """A non-blank string from a fixed list; anything else is ``<prefix>.invalid_<name>``.

    Barong's keys for these are ``admin.restriction.invalid_scope`` etc., which is the
    key the message names (used verbatim by the error mapping).
    """

    def __init__(self, *, choices: tuple[str, ...], key: str, **kwargs: Any) -> None:
        self.allowed, self.key = choices, key
        kwargs.setdefault("allow_blank", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str | int) or isinstance(data, bool):
            raise serializers.ValidationError(self.key, code="invalid")
        value = super().to_internal_value(data)
        if value not in self.allowed:
            raise serializers.ValidationError(self.key, code="invalid")
        return value


SCOPES = tuple(Restriction.Scope.values)
CATEGORIES = tuple(Restriction.Category.values)
STATES = tuple(Restriction.State.values)
RANGES = ("created", "updated")
LOCK_HELP = (
    "Refuse users under a security lock (2FA off, password changed or reset, recovery code "
    "used) with 403 authz.security_lock"
)


# ---------------------------------------------------------------- permissions


class PermissionCreateInput(serializers.Serializer):
    role = _non_blank("An existing role (e.g. admin, member)")
    verb = _non_blank("get, post, put, delete, patch, head or all (any case)")
    path = _non_blank("Gateway path prefix, e.g. api/v2/barong/admin/users")
    action = _non_blank("accept, drop or audit (any case)")
    topic = _non_blank("Audit topic", required=False)
    step_up_max_age = Int(
        required=False,
        help_text="Seconds (1 to 86400): a second factor this recent is required (a step-up);"
        " 0 or absent: none",
    )
    security_lock = Bool(required=False, help_text=LOCK_HELP)


class PermissionUpdateInput(serializers.Serializer):
    id = BareInvalidInt(help_text="Permission id")
    role = _non_blank("An existing role", required=False)
    verb = _non_blank("get, post, put, delete, patch, head or all", required=False)
    path = _non_blank("Gateway path prefix", required=False)
    action = _non_blank("accept, drop or audit", required=False)
    topic = _non_blank("Audit topic", required=False)
    step_up_max_age = Int(required=False, help_text="Seconds (1 to 86400); 0 removes it")
    security_lock = Bool(required=False, help_text=LOCK_HELP)


class PermissionDeleteInput(serializers.Serializer):
    id = BareInvalidInt(help_text="Permission id")


class RawRowSerializer(serializers.ModelSerializer):
    """A rule table's row as Barong answers it: its times raw (``RawTime``)."""

    created_at = RawTime()
    updated_at = RawTime()


class PermissionSerializer(RawRowSerializer):
    """A raw permission row."""

    class Meta:
        model = Permission
        fields = [
            "id",
            "action",
            "role",
            "verb",
            "path",
            "topic",
            "step_up_max_age",
            "security_lock",
            "created_at",
            "updated_at",
        ]


# ---------------------------------------------------------------- restrictions


class RestrictionCreateInput(serializers.Serializer):
    # Barong 2.4.0 had deny rules only and its clients send no category: absent is blacklist.
    category = OneOf(
        choices=CATEGORIES,
        key="admin.restriction.invalid_category",
        required=False,
        default=Restriction.Category.BLACKLIST.value,
        help_text="whitelist, maintenance or blacklist (default, as Barong 2.4.0)",
    )
    scope = OneOf(
        choices=SCOPES,
        key="admin.restriction.invalid_scope",
        help_text="all, ip, ip_subnet, continent or country",
    )
    value = _non_blank(
        "IPv4/IPv6 address, CIDR subnet, ISO country (JP, or a name) or continent (EU) code"
    )
    state = OneOf(
        choices=STATES,
        key="admin.restriction.invalid_state",
        required=False,
        help_text="enabled (default) or disabled",
    )
    code = Int(required=False, help_text="HTTP status answered on a match (default per scope)")


class RestrictionUpdateInput(serializers.Serializer):
    id = BareInvalidInt(help_text="Restriction id")
    category = OneOf(choices=CATEGORIES, key="admin.restriction.invalid_category", required=False)
    scope = OneOf(choices=SCOPES, key="admin.restriction.invalid_scope", required=False)
    value = _non_blank("New value, checked against the (new) scope", required=False)
    state = OneOf(choices=STATES, key="admin.restriction.invalid_state", required=False)
    code = Int(required=False, help_text="HTTP status answered on a match")


class RestrictionDeleteInput(serializers.Serializer):
    id = BareInvalidInt(help_text="Restriction id")


class RestrictionSerializer(RawRowSerializer):
    """A raw restriction row (2.4.17 columns)."""

    class Meta:
        model = Restriction
        fields = [
            "id",
            "category",
            "scope",
            "value",
            "code",
            "state",
            "created_at",
            "updated_at",
        ]
