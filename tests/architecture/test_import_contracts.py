"""The import contracts in pyproject.toml hold; a module breaking one makes lint-imports fail."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "root_packages"
]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the packages and of pyproject.toml, to break on purpose."""
    target = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            target / package,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def _lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own tool on our own copy
        [str(LINT_IMPORTS), "--config", "pyproject.toml", "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
    )


def test_the_tree_keeps_every_contract(tree):
    result = _lint(tree)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("package", "code", "reported"),
    [
        # barong is the ground: it imports no app.
        (
            "barong",
            "def f():\n    from kyc import models\n\n    return models\n",
            "barong.violation -> kyc.models",
        ),
        # a lower app importing a higher one
        (
            "accounts",
            "from permissions import engine\n",
            "accounts.violation -> permissions.engine",
        ),
        # events is at the bottom with activities: it imports no app
        ("events", "from accounts import models\n", "events.violation -> accounts.models"),
        # management is the top layer: it calls the apps' services, nothing calls it
        ("kyc", "from management import services\n", "kyc.violation -> management.services"),
        # inside accounts a service never reaches up to a view
        (
            "accounts/services",
            "from accounts.views import identity\n",
            "accounts.services.violation -> accounts.views.identity",
        ),
    ],
)
def test_an_import_against_the_contracts_is_caught(tree, package, code, reported):
    violation = tree / package / "violation.py"
    violation.write_text(code)
    try:
        result = _lint(tree)
    finally:
        violation.unlink()

    assert result.returncode != 0
    assert reported in result.stdout


def test_the_layers_have_no_exceptions():
    """Apps depend one way without a list of tolerated upward imports."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    layers = [
        contract
        for contract in config["tool"]["importlinter"]["contracts"]
        if contract["type"] == "layers"
    ]

    assert layers
    assert all(not contract.get("ignore_imports") for contract in layers)
