"""The role tables of docs/operations.md, printed by ``manage.py roles_table``.

Ranks, what each role may do to a user and its back-office rights come from the one
declaration (``accounts.roles``) and the pages that apply it; the admin API cells come from
the seeded permission table (``BARONG_SEED_PERMISSIONS_FILE``, as ``manage.py
seed_permissions`` loads it). The docs hold exactly this output
(``tests/permissions/test_role_table.py``).
"""

import yaml
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest

from accounts.models import User
from accounts.roles import (
    MEMBER_RANK,
    PSEUDO_MODELS,
    ROLES,
    USER_ACTIONS,
    Role,
    role_outranks,
    role_rights,
)
from permissions.engine import Rule, decide

API_PREFIX = "api/v2/barong/"
RIGHTS_ORDER = ("view", "add", "change", "delete")


def _seeded_rules() -> dict[str, tuple[Rule, ...]]:
    with open(settings.BARONG_SEED_PERMISSIONS_FILE, encoding="utf-8") as handle:
        rows = (yaml.safe_load(handle) or {}).get("permissions") or []
    rules: dict[str, list[Rule]] = {}
    for row in rows:
        verb, action = str(row["verb"]).upper(), str(row["action"]).upper()
        rules.setdefault(str(row["role"]), []).append(Rule(verb, str(row["path"]), action, None))
    return {role: tuple(found) for role, found in rules.items()}


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    return [_row(head), _row(["---"] * len(head)), *(_row(row) for row in rows)]


def _acts_on(role: Role, operators: list[Role]) -> str:
    below = [f"`{other.name}`" for other in operators if role_outranks(role.name, other.name)]
    return ", ".join([*below, "members"])


def _action_rows(operators: list[Role]) -> list[list[str]]:
    """Per user action, the doors each role may use: the seeded API rules, the back-office
    right the action needs."""
    seeded = _seeded_rules()
    rows = []
    for action in USER_ACTIONS:
        app_label, _, codename = action.backoffice.partition(".")
        verb, _, model = codename.partition("_")
        cells = []
        for role in operators:
            doors = []
            rules = seeded.get(role.name, ())
            if any(decide(rules, method, API_PREFIX + path).allowed for method, path in action.api):
                doors.append("API")
            if verb in role_rights(role.name, app_label, model):
                doors.append("back-office")
            cells.append(", ".join(doors) or "—")
        rows.append([action.name, *cells])
    return rows


def _backoffice_rows(operators: list[Role]) -> list[list[str]]:
    """Each page's rights as its ModelAdmin grants them to the role (a page may refuse what
    the role would allow: users are never added nor deleted), then the rights of their own."""
    rows = []
    registry = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower)
    for model, model_admin in registry:
        cells = []
        for role in operators:
            request = HttpRequest()
            request.user = User(role=role.name, state=User.State.ACTIVE)
            rights = [
                right
                for right in RIGHTS_ORDER
                if getattr(model_admin, f"has_{right}_permission")(request)
            ]
            cells.append(", ".join(rights) or "—")
        meta = model._meta
        rows.append([f"{str(meta.verbose_name).capitalize()} (`{meta.label_lower}`)", *cells])
    for model, (right, title) in sorted(PSEUDO_MODELS.items()):
        app_label, _, name = model.partition(".")
        cells = [
            right if right in role_rights(role.name, app_label, name) else "—" for role in operators
        ]
        rows.append([f"{title} (`{model}`)", *cells])
    return rows


def roles_table() -> str:
    """The markdown of the role section's tables (no heading, no trailing newline)."""
    # Highest rank first; within a rank, the declaration's order backwards.
    operators = [role for role in reversed(ROLES) if role.rank > MEMBER_RANK]
    operators.sort(key=lambda role: -role.rank)
    head = ["", *(f"`{role.name}`" for role in operators)]
    lines = ["Ranks (a user's role ranks 0, as does every role not declared):", ""]
    lines += _table(
        head,
        [
            ["Rank", *(str(role.rank) for role in operators)],
            ["Acts on and gives", *(_acts_on(role, operators) for role in operators)],
            ["In short", *(role.summary for role in operators)],
        ],
    )
    lines += ["", "What each role may do to a user it outranks, and through which door:", ""]
    lines += _table(head, _action_rows(operators))
    lines += ["", "Back-office rights on each page:", ""]
    lines += _table(head, _backoffice_rows(operators))
    return "\n".join(lines)
