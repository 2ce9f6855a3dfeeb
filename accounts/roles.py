"""Roles, their ranks and what each may do: declared here once.

Read by the guard that every operator action on a user calls
(``accounts.services.operators.user_admin_guard``), the back-office permission backend
(``accounts.backends``) and ``manage.py roles_table``, which prints the role table of
docs/operations.md. Which admin API paths a role reaches is Barong's permission table
(seeded from ``permissions/seeds/permissions.yml``, changeable by a superadmin); the rank
rule below holds whichever door a call comes through.

Ranks, members first: every role not declared here (``member``, ``trader``, roles made up
in the permission table) ranks 0 with the users; the four specialist operator roles rank 1;
``admin`` 2; ``superadmin`` 3. An operator acts only on users of a lower rank and gives
only roles of a lower rank. ``superadmin`` alone also acts on its peers (nobody ranks above
it, so otherwise a departing superadmin could be demoted only from a shell, outside the
audit log); the last active superadmin stays protected (``accounts.services.guards``).
"""

from dataclasses import dataclass, field

ALL = frozenset({"view", "add", "change", "delete"})
VIEW = frozenset({"view"})
NONE: frozenset[str] = frozenset()

# Back-office rights that are not a model's, with the one action each guards:
# ``activities.adminactivity`` the admin-category rows of the activity log,
# ``accounts.userrole`` the role field of the user page, ``kyc.profilefields`` the fields of
# a submitted profile (deciding it is ``kyc.change_profile``).
PSEUDO_MODELS = {
    "activities.adminactivity": ("view", "Operators' actions in the activity log"),
    "accounts.userrole": ("change", "A user's role, on the user page"),
    "kyc.profilefields": ("change", "A submitted profile's fields"),
}


@dataclass(frozen=True)
class Role:
    """One role: its rank, a line for the docs and its back-office rights.

    ``backoffice`` maps ``app_label.model`` (or ``app_label``, or ``*``) to the actions
    allowed on it; the most specific entry wins. ``peers``: acts on others of its rank.
    """

    name: str
    rank: int
    summary: str
    backoffice: dict[str, frozenset[str]] = field(default_factory=dict)
    peers: bool = False


MEMBER_RANK = 0

ROLES: tuple[Role, ...] = (
    Role("member", MEMBER_RANK, "A user of the exchange; no back-office."),
    Role(
        "support",
        1,
        "Answers users: reads users, KYC and the user activity log.",
        {
            "*": NONE,
            "accounts.user": VIEW,
            "accounts.label": VIEW,
            "kyc.document": VIEW,
            "kyc.profile": VIEW,
            "kyc.phone": VIEW,
            "apikeys.apikey": VIEW,
            "activities.activity": VIEW,
        },
    ),
    Role(
        "technical",
        1,
        "Runs the platform: reads everything but permissions and the operators' log.",
        {"*": VIEW, "permissions.permission": NONE, "activities.adminactivity": NONE},
    ),
    Role(
        "accountant",
        1,
        "Keeps the books: reads everything but permissions and the operators' log.",
        {"*": VIEW, "permissions.permission": NONE, "activities.adminactivity": NONE},
    ),
    Role(
        "compliance",
        1,
        "Reviews KYC and acts on members: states, bans, 2FA, sessions, labels, decisions.",
        {
            "*": NONE,
            "accounts.user": frozenset({"view", "change"}),
            "accounts.label": ALL,
            "kyc.document": frozenset({"view", "change"}),
            "kyc.profile": frozenset({"view", "change"}),
            "kyc.phone": VIEW,
            "kyc.datastorage": frozenset({"view", "delete"}),
            "apikeys.apikey": VIEW,
            "activities.activity": VIEW,
        },
    ),
    Role(
        "admin",
        2,
        "Runs the exchange: everything but roles, permissions and the operators' log.",
        {
            "*": ALL,
            "accounts.userrole": NONE,
            "permissions.permission": NONE,
            "activities.adminactivity": NONE,
        },
    ),
    Role(
        "superadmin",
        3,
        "Everything, roles and permissions included; also acts on other superadmins.",
        {"*": ALL},
        peers=True,
    ),
)

ROLES_BY_NAME: dict[str, Role] = {role.name: role for role in ROLES}
OPERATOR_ROLES: tuple[str, ...] = tuple(role.name for role in ROLES if role.rank > MEMBER_RANK)
SUPERADMIN = "superadmin"


def role_rank(role: str) -> int:
    """A role's rank; a role not declared here ranks with the members."""
    declared = ROLES_BY_NAME.get(role)
    return declared.rank if declared is not None else MEMBER_RANK


def role_outranks(actor: str, target: str) -> bool:
    """Whether an operator of role ``actor`` may act on a user of role ``target``."""
    declared = ROLES_BY_NAME.get(actor)
    if declared is None or declared.rank == MEMBER_RANK:
        return False
    rank = role_rank(target)
    return rank < declared.rank or (declared.peers and rank == declared.rank)


def role_rights(role: str, app_label: str, model: str) -> frozenset[str]:
    """The back-office actions ``role`` may take on ``app_label.model``."""
    declared = ROLES_BY_NAME.get(role)
    table = declared.backoffice if declared is not None else {}
    for key in (f"{app_label}.{model}", app_label, "*"):
        if key in table:
            return table[key]
    return NONE


def role_has_module_rights(role: str, app_label: str) -> bool:
    """Whether the back-office index shows the app: any right on it or one of its models."""
    declared = ROLES_BY_NAME.get(role)
    table = declared.backoffice if declared is not None else {}
    if table.get(app_label, table.get("*", NONE)):
        return True
    return any(rights for key, rights in table.items() if key.startswith(f"{app_label}."))


@dataclass(frozen=True)
class UserAction:
    """Something an operator does to a user: the back-office right it needs and the admin
    API operations (method, path under ``api/v2/barong/``) that do it."""

    name: str
    backoffice: str
    api: tuple[tuple[str, str], ...]


# Each is guarded by rank (``user_admin_guard``) in both doors.
USER_ACTIONS: tuple[UserAction, ...] = (
    UserAction(
        "Change state (ban, lock, unlock, activate)",
        "accounts.change_user",
        (("PUT", "admin/users"), ("POST", "admin/users/update")),
    ),
    UserAction(
        "Switch 2FA off",
        "accounts.change_user",
        (("PUT", "admin/users"), ("POST", "admin/users/update")),
    ),
    UserAction("End sessions", "accounts.change_user", (("DELETE", "admin/users/UID/sessions"),)),
    UserAction(
        "Remove passkeys", "accounts.change_user", (("DELETE", "admin/users/UID/passkeys"),)
    ),
    UserAction(
        "Add, change, delete labels",
        "accounts.change_label",
        (
            ("POST", "admin/users/labels"),
            ("PUT", "admin/users/labels"),
            ("POST", "admin/users/labels/update"),
            ("DELETE", "admin/users/labels"),
        ),
    ),
    UserAction(
        "Verify or reject documents",
        "kyc.change_document",
        (("POST", "admin/users/labels/update"),),
    ),
    UserAction("Verify or reject profiles", "kyc.change_profile", (("PUT", "admin/profiles"),)),
    UserAction(
        "Correct a submitted profile", "kyc.change_profilefields", (("PUT", "admin/profiles"),)
    ),
    UserAction(
        "Delete data storage",
        "kyc.delete_datastorage",
        (("DELETE", "admin/users/data_storage"),),
    ),
    UserAction("Give a role", "accounts.change_userrole", (("POST", "admin/users/role"),)),
)
