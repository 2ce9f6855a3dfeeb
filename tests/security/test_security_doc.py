"""docs/security.md cannot rot silently: every file, function and test its ASVS tables cite
exists, every row says which test proves it or that none does, and the list of gaps
matches the rows marked "not met"."""

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
README = ROOT / "README.md"

HEADER = ["ASVS", "L", "Requirement", "Status", "Code", "Test"]
STATUSES = {"met", "partly", "not met", "n/a"}
ID_RE = re.compile(r"\A\d+\.\d+\.\d+\Z")
TICKED_RE = re.compile(r"`([^`]+)`")
CODE_REF_RE = re.compile(r"\A(?P<path>[\w./-]+\.(?:py|md|yml|yaml|html))(?:::(?P<name>\w+))?\Z")
TEST_REF_RE = re.compile(r"\A(?P<path>tests/[\w./-]+\.py)::(?P<names>\w+(?:::\w+)?)\Z")
NO_TEST = "no test"
GAPS_RE = re.compile(r'Rows marked "not met": ([\d., ]+)\.')
LINK_RE = re.compile(r"\]\(([^)\s]+)\)")


@dataclass(frozen=True)
class Row:
    line: int
    asvs: str
    level: str
    status: str
    code: str
    test: str


def rows_of(text: str) -> list[Row]:
    """The rows of every table whose header is ``HEADER``."""
    rows, in_table = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells == HEADER:
            in_table = True
            continue
        if not in_table or set(line) <= set("|-: "):
            continue
        if len(cells) != len(HEADER):
            rows.append(Row(number, "?", "?", "?", "?", f"{len(cells)} cells"))
            continue
        asvs, level, _, status, code, test = cells
        rows.append(Row(number, asvs, level, status, code, test))
    return rows


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _defined_anywhere(path: Path, name: str) -> bool:
    """``name`` is a function, class or assigned name somewhere in the module."""
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == name:
                return True
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
    return False


def _test_defined(path: Path, names: list[str]) -> bool:
    """``test_x`` at module level, or ``TestX::test_x`` a method of a module-level class."""
    body = _tree(path).body
    if len(names) == 2:
        classes = [n for n in body if isinstance(n, ast.ClassDef) and n.name == names[0]]
        body = classes[0].body if classes else []
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == names[-1]
        for node in body
    )


def row_problems(row: Row, root: Path = ROOT) -> list[str]:
    """What is wrong with one row; empty when every citation holds."""
    where = f"line {row.line} ({row.asvs})"
    problems = []
    if not ID_RE.match(row.asvs):
        problems.append(f"{where}: not a requirement id")
    if row.level not in ("1", "2"):
        problems.append(f"{where}: level {row.level!r} is not 1 or 2")
    if row.status not in STATUSES:
        problems.append(f"{where}: status {row.status!r} is not one of {sorted(STATUSES)}")
    code_refs = TICKED_RE.findall(row.code)
    if not code_refs and not (row.status == "n/a" and row.code == "—"):
        problems.append(f"{where}: no code cited (only an n/a row may say —)")
    for ref in code_refs:
        match = CODE_REF_RE.match(ref)
        if match is None:
            problems.append(f"{where}: code reference {ref!r} is not a path or path::name")
            continue
        path = root / match["path"]
        if not path.is_file():
            problems.append(f"{where}: {match['path']} does not exist")
        elif match["name"] and not (
            path.suffix == ".py" and _defined_anywhere(path, match["name"])
        ):
            problems.append(f"{where}: {match['name']} is not defined in {match['path']}")
    test_refs = [ref for ref in TICKED_RE.findall(row.test) if ref.startswith("tests/")]
    if row.test.startswith(NO_TEST):
        if test_refs:
            problems.append(f"{where}: says {NO_TEST!r} but cites {test_refs}")
    elif not test_refs or not row.test.startswith("`"):
        problems.append(f"{where}: the test cell neither starts with a test nor says {NO_TEST!r}")
    for ref in test_refs:
        match = TEST_REF_RE.match(ref)
        if match is None:
            problems.append(f"{where}: test reference {ref!r} is not tests/…py::test_name")
            continue
        path, names = root / match["path"], match["names"].split("::")
        if not names[-1].startswith("test_"):
            problems.append(f"{where}: {ref} does not name a test function")
        elif not path.is_file():
            problems.append(f"{where}: {match['path']} does not exist")
        elif not _test_defined(path, names):
            problems.append(f"{where}: {match['names']} is not a test in {match['path']}")
    return problems


def doc_problems(text: str, root: Path = ROOT) -> list[str]:
    rows = rows_of(text)
    problems = [problem for row in rows for problem in row_problems(row, root)]
    ids = [row.asvs for row in rows]
    problems += [f"{asvs} appears twice" for asvs in sorted({i for i in ids if ids.count(i) > 1})]
    gaps = GAPS_RE.search(text)
    listed = {g.strip() for g in gaps[1].split(",")} if gaps else set()
    not_met = {row.asvs for row in rows if row.status == "not met"}
    if listed != not_met:
        problems.append(f"the Gaps list {sorted(listed)} is not the not-met rows {sorted(not_met)}")
    return problems


# ---------------------------------------------------------------- the document


def test_the_tables_cover_the_chapters():
    rows = rows_of(DOC.read_text())
    chapters = {row.asvs.split(".")[0] for row in rows}
    assert {"4", "6", "7", "8", "9", "11", "16"} <= chapters
    assert len(rows) > 80


def test_every_citation_holds():
    assert doc_problems(DOC.read_text()) == []


def test_links_resolve():
    """Relative links point at files, and anchors at headings of the file they name."""
    text = DOC.read_text()
    for target in LINK_RE.findall(text):
        if target.startswith(("http://", "https://", "<")):
            continue
        path_text, _, anchor = target.partition("#")
        path = (DOC.parent / path_text).resolve() if path_text else DOC
        assert path.is_file(), target
        if anchor:
            assert anchor in _anchors(path.read_text()), target


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_the_readme_links_the_page():
    assert "](docs/security.md)" in README.read_text()


# ---------------------------------------------------------------- the checker itself

GOOD = (
    "| 9.1.2 | 1 | Algorithm allowlist | met | `barong/jwt.py::decode` |"
    " `tests/security/test_jwt_forgeries.py::test_alg_none_is_refused` |"
)


def _table(*lines: str, gaps: str = "") -> str:
    head = "| " + " | ".join(HEADER) + " |\n|---|---|---|---|---|---|\n"
    return head + "\n".join(lines) + f'\n\nRows marked "not met": {gaps}.\n'


def test_the_checker_accepts_a_good_row():
    assert doc_problems(_table(GOOD)) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("test_alg_none_is_refused", "test_alg_nothing_is_refused"), "is not a test in"),
        (("test_jwt_forgeries.py", "test_jwt_forgery.py"), "does not exist"),
        (("jwt.py::decode", "jwt.py::decoded"), "is not defined in"),
        (("barong/jwt.py", "barong/jwts.py"), "does not exist"),
        (("| met |", "| done |"), "status"),
        (("| 1 |", "| 3 |"), "level"),
        (("`tests/security", "tests/security"), "neither starts with a test"),
        (("::test_alg_none_is_refused", "::_signed"), "does not name a test function"),
        (("`barong/jwt.py::decode`", "barong/jwt.py"), "no code cited"),
    ],
)
def test_the_checker_finds_a_wrong_citation(change, expected):
    row = GOOD.replace(*change)
    assert row != GOOD
    problems = doc_problems(_table(row))
    assert any(expected in problem for problem in problems), problems


def test_the_checker_finds_a_method_of_a_test_class():
    row = GOOD.replace(
        "tests/security/test_jwt_forgeries.py::test_alg_none_is_refused",
        "tests/management/test_request_rules.py::TestEveryEndpoint::test_expired",
    )
    assert doc_problems(_table(row)) == []
    wrong = row.replace("TestEveryEndpoint", "TestNoEndpoint")
    assert any("is not a test in" in p for p in doc_problems(_table(wrong)))


def test_the_checker_wants_no_test_said_plainly_and_the_gaps_listed():
    no_test = GOOD.replace(
        "`tests/security/test_jwt_forgeries.py::test_alg_none_is_refused`", "no test: why"
    ).replace("| met |", "| not met |")
    assert doc_problems(_table(no_test, gaps="9.1.2")) == []
    assert any("Gaps" in p for p in doc_problems(_table(no_test, gaps="")))
    both = no_test.replace("no test: why", "no test: `tests/x.py::test_y`")
    assert any("says 'no test'" in p for p in doc_problems(_table(both, gaps="9.1.2")))
    assert any("appears twice" in p for p in doc_problems(_table(GOOD, GOOD)))
