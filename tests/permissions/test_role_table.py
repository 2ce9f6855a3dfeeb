"""The role tables of docs/operations.md are exactly what ``manage.py roles_table`` prints."""

import io
from pathlib import Path

from django.core.management import call_command

from accounts.roles import OPERATOR_ROLES, role_outranks

OPERATIONS_MD = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
BEGIN, END = "<!-- roles_table: begin -->\n", "\n<!-- roles_table: end -->"


def _printed() -> str:
    out = io.StringIO()
    call_command("roles_table", stdout=out)
    return out.getvalue().rstrip("\n")


def test_the_docs_hold_exactly_the_printed_tables():
    text = OPERATIONS_MD.read_text(encoding="utf-8")
    assert text.count(BEGIN) == text.count(END) == 1
    documented = text.split(BEGIN, 1)[1].split(END, 1)[0]

    assert documented == _printed()


def _cells(line: str) -> list[str]:
    return [cell.strip(" `") for cell in line.split("|")[1:-1]]


def test_the_tables_name_every_operator_role_and_the_seeded_api_doors():
    lines = _printed().splitlines()
    roles = _cells(lines[2])[1:]
    rows = [_cells(line) for line in lines if line.startswith("| ") and "---" not in line]
    actions = {row[0]: dict(zip(roles, row[1:], strict=True)) for row in rows}

    assert roles == ["superadmin", "admin", "compliance", "accountant", "technical", "support"]
    # Barong's seeds let an accountant change states (PUT /admin/users), never labels.
    assert actions["Change state (ban, lock, unlock, activate)"]["accountant"] == "API"
    assert actions["Add, change, delete labels"]["accountant"] == "—"
    assert actions["Give a role"] == {"superadmin": "API, back-office"} | dict.fromkeys(
        roles[1:], "—"
    )


def test_operator_roles_and_ranks():
    assert set(OPERATOR_ROLES) == {
        "superadmin",
        "admin",
        "accountant",
        "compliance",
        "technical",
        "support",
    }
    assert role_outranks("superadmin", "superadmin")
    assert not role_outranks("admin", "admin")
    assert not role_outranks("compliance", "support")
    assert role_outranks("compliance", "trader")  # undeclared roles rank with members
    assert not role_outranks("trader", "member")  # and act on nobody
    assert not role_outranks("pirate", "member")
