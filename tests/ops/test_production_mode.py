"""Production mode as a new operator tries it: the README's steps run as written, then every page
``make serve`` answers, looked at in Chromium.

The README's "Running it for real" commands run in bash with the local stand-ins of
"Trying production mode on one machine" (SQLite, no Redis, ``make mailsink``); the only
changes are free ports instead of 8000 and 1025 and a temporary folder instead of
``var/``, so parallel runs and a developer's own ``var/`` are left alone. Then gunicorn
(``make serve``, ``DEBUG`` off) serves the API docs, the back-office and the e-mail link
pages to one browser, which records every request: each page must load its styles and
ask nothing of another host.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import BROWSER_MARKS, CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCK_RE = re.compile(r"```sh\n(.*?)```", re.DOTALL)
OPERATOR = "admin@example.com"  # the README's first operator
OPERATOR_PASSWORD = "Operator-Password-2026"
# What an outer make (make test) or the test's own set-up leaves in the environment.
OUTER = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PORT", "HOST", "PROMETHEUS_MULTIPROC_DIR")
SCREENSHOTS = os.environ.get("BACKOFFICE_SCREENSHOTS")  # a directory, to look at the pages

pytestmark = BROWSER_MARKS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def readme_steps() -> dict[str, str]:
    """The section's shell blocks: the configuration, the commands, the local stand-ins."""
    section = README.read_text().split("## Running it for real", 1)[1].split("\n## ", 1)[0]
    blocks = BLOCK_RE.findall(section)
    return {
        "configuration": next(block for block in blocks if "BARONG_ENV=production" in block),
        "commands": next(block for block in blocks if "make install" in block),
        "local": next(block for block in blocks if "sqlite:///" in block),
    }


def _localised(text: str, *, port: int, var: Path) -> str:
    """Free ports and a temporary folder in place of 8000 and ``var/``."""
    text = text.replace("$PWD/var/", f"{var}/").replace("mkdir -p var ", f"mkdir -p {var} ")
    text = re.sub(r"(?<![\w/$.])var/", f"{var}/", text)
    return text.replace("8000", str(port))


def _wait_for(what: str, ready, process: subprocess.Popen, log: Path, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"{what} did not start:\n{log.read_text()[-4000:]}")


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


def _stop(process: subprocess.Popen) -> None:
    """The make process and everything it started (its own session): gunicorn's quick stop."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


class Served:
    """The server the README's steps start, and its mail sink's output."""

    def __init__(self, url: str, mail_log: Path, serve_log: Path) -> None:
        self.url = url
        self.mail_log = mail_log
        self.serve_log = serve_log

    def mail_link(self, path: str, after: int, timeout: float = 30) -> str:
        """The first link to ``path`` the mail sink printed past offset ``after``."""
        pattern = re.compile(re.escape(f"{self.url}{path}?") + r"[^\s\"'<>]+")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = pattern.search(self.mail_log.read_text()[after:])
            if found:
                return found.group(0).replace("&amp;", "&")
            time.sleep(0.2)
        raise AssertionError(f"no mail with {path}:\n{self.mail_log.read_text()[-3000:]}")

    def mail_offset(self) -> int:
        return len(self.mail_log.read_text())

    def confirmation_link(self, email: str) -> str:
        """Sign ``email`` up through the API; the confirmation link its e-mail carries."""
        before = self.mail_offset()
        answer = requests.post(
            f"{self.url}/api/v2/identity/users",
            json={"email": email, "password": "Correct-Horse-Battery-9"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        return self.mail_link("/accounts/confirmation", before)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("production")
    var, port, mail_port = tmp / "var", _free_port(), _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BARONG_", "DJANGO_", "DATABASE_", "REDIS_", "EMAIL_", "CELERY_"))
        and key not in OUTER
    }
    # BARONG_DATA_DIR (static files, metrics) and the mail port stay out of the repository's
    # var/ and off 1025; the mail sink and the server both read EMAIL_PORT.
    env.update(BARONG_DATA_DIR=str(var), EMAIL_PORT=str(mail_port), PYTHONUNBUFFERED="1")

    mail_log = tmp / "mail.log"
    with mail_log.open("w") as out:
        sink = subprocess.Popen(
            ["make", "mailsink"],  # noqa: S607
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    serve = None
    try:
        _wait_for("make mailsink", lambda: _listening(mail_port), sink, mail_log)

        steps = readme_steps()
        commands = "\n".join(
            line
            for line in steps["commands"].splitlines()
            if not line.startswith(("make serve", "make worker"))
        )
        script = "\n".join(
            [steps["configuration"], steps["local"], commands, f"env -0 > {tmp}/env"]
        )
        result = subprocess.run(  # noqa: S603
            ["bash", "-euo", "pipefail", "-c", _localised(script, port=port, var=var)],  # noqa: S607
            cwd=ROOT,
            env=env,
            input=f"{OPERATOR_PASSWORD}\n",
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        production = dict(
            item.split("=", 1) for item in (tmp / "env").read_text().split("\0") if "=" in item
        )
        assert production["BARONG_ENV"] == "production"
        # Demo data for the back-office pages: a KYC case waiting, users at every level.
        subprocess.run(
            [".venv/bin/python", "manage.py", "seed_demo"],
            cwd=ROOT,
            env=production,
            capture_output=True,
            timeout=300,
            check=True,
        )

        (serve_line,) = [line for line in steps["commands"].splitlines() if "make serve" in line]
        serve_log = tmp / "serve.log"
        url = f"http://127.0.0.1:{port}"
        with serve_log.open("w") as out:
            serve = subprocess.Popen(  # noqa: S603
                ["bash", "-c", _localised(serve_line.split("#")[0], port=port, var=var)],  # noqa: S607
                cwd=ROOT,
                env={**production, "PORT": str(port)},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def alive() -> bool:
            with contextlib.suppress(requests.RequestException):
                return requests.get(f"{url}/api/v2/health/alive", timeout=2).ok
            return False

        _wait_for("make serve", alive, serve, serve_log)
        yield Served(url, mail_log, serve_log)
    finally:
        if serve is not None:
            _stop(serve)
        _stop(sink)


# ---------------------------------------------------------------- the steps, as documented
def test_the_readme_names_no_bare_python_gunicorn_or_celery():
    steps = readme_steps()
    for name, block in steps.items():
        for line in block.splitlines():
            command = line.split("#")[0]
            for tool in ("python", "gunicorn", "celery", "pip"):
                assert not re.search(rf"(^|[\s;&|(]){tool}\b", command), (name, line)


def test_make_serve_runs_gunicorn_as_recommended(served):
    log = served.serve_log.read_text()
    assert f"Listening at: {served.url}" in log
    assert "Using worker: gthread" in log
    assert log.count("Booting worker") == (os.cpu_count() or 1)
    assert "manage.py collectstatic" in log


def test_a_sign_up_mails_a_link_to_this_server(served):
    before = served.mail_offset()
    link = served.confirmation_link("grace@example.com")
    assert "confirmation_token=" in link
    assert "grace@example.com" in served.mail_log.read_text()[before:]


# ---------------------------------------------------------------- the pages, in Chromium
@pytest.fixture(scope="module")
def browser(served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Visit:
    """One browser context that records every request of the page it shows."""

    def __init__(self, browser, base: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.set_default_timeout(60_000)  # a busy machine renders Redoc slowly
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.failures: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.context.on(
            "requestfailed", lambda request: self.failures.append(f"{request.url} failed")
        )
        self.context.on(
            "response",
            lambda response: (
                self.failures.append(f"{response.url} {response.status}")
                if response.status >= 400
                else None
            ),
        )

    def open(self, path: str, ready: str, name: str) -> None:
        """Load ``path`` (a path or a whole link), wait for ``ready``; check what it loaded."""
        self.requests.clear()
        self.failures.clear()
        self.page.goto(path if path.startswith("http") else self.base + path)
        self.page.wait_for_selector(ready, state="attached")
        self.settle()
        self.check(name)

    def settle(self) -> None:
        """Let the page finish what it fetches after loading (the API docs read the schema)."""
        self.page.wait_for_load_state("load")
        with contextlib.suppress(PlaywrightTimeout):  # a page that never idles is checked as is
            self.page.wait_for_load_state("networkidle", timeout=10_000)

    def check(self, name: str) -> None:
        if SCREENSHOTS:
            self.page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))
        origin = urlsplit(self.base)
        outside = [
            url
            for url in self.requests
            if urlsplit(url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(url).netloc != origin.netloc
        ]
        assert outside == [], f"{name} asked another host"
        assert self.failures == [], name
        sheets = self.page.evaluate(
            """() => Array.from(document.querySelectorAll('link[rel="stylesheet"]'))
                .map(link => [link.href, link.sheet ? link.sheet.cssRules.length : 0])"""
        )
        assert all(rules > 0 for _, rules in sheets), (name, sheets)
        for href, _ in sheets:
            assert urlsplit(href).path.startswith("/static/"), href

    def width(self, selector: str) -> float:
        return self.page.locator(selector).bounding_box()["width"]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, served):
    visitor = Visit(browser, served.url)
    yield visitor
    visitor.close()


def _log_in(visit: Visit, email: str, password: str) -> None:
    visit.open("/admin/login/", "#id_otp_code", "admin-login")
    visit.page.fill("#id_username", email)
    visit.page.fill("#id_password", password)
    visit.page.click("input[type=submit]")
    visit.page.wait_for_url(f"{visit.base}/admin/")


def _styled(visit: Visit, selector: str) -> str:
    """A computed colour that only the style sheets give (a bare page keeps the defaults)."""
    return visit.page.locator(selector).first.evaluate(
        "node => getComputedStyle(node).backgroundColor"
    )


def test_api_docs_work_with_nothing_from_another_host(visit):
    visit.open("/api/v2/docs/", ".opblock", "swagger-ui")
    assert visit.page.locator(".opblock").count() > 10  # the operations, rendered
    assert _styled(visit, ".opblock-summary-method") not in ("rgba(0, 0, 0, 0)", "")

    visit.open("/api/v2/redoc/", "[role=menuitem]", "redoc")
    assert "Barong" in visit.page.locator("h1").first.inner_text()
    assert visit.page.locator("[role=menuitem]").count() > 5
    assert "API docs by Redocly" in visit.page.inner_text("body")  # the credit, without a logo


def test_back_office_pages_load_styled_from_this_server(visit):
    _log_in(visit, OPERATOR, OPERATOR_PASSWORD)
    pages = [
        ("/admin/", "#content-main", "admin-index"),
        ("/admin/accounts/user/", "#result_list", "admin-users"),
        ("/admin/kyc/document/review/", ".kyc-card", "admin-kyc-queue"),
        ("/admin/kyc/document/", "#result_list", "admin-documents"),
        ("/admin/kyc/profile/", "#result_list", "admin-profiles"),
        ("/admin/activities/activity/", "#result_list", "admin-activities"),
        ("/admin/permissions/permission/", "#result_list", "admin-permissions"),
        ("/admin/password_change/", "#id_old_password", "admin-password"),
    ]
    for path, ready, name in pages:
        visit.open(path, ready, name)
        assert _styled(visit, "#header") not in ("rgba(0, 0, 0, 0)", ""), name
    visit.open("/admin/kyc/document/review/", ".kyc-card img", "admin-kyc-queue")
    scan = visit.page.locator(".kyc-card img").first
    assert scan.evaluate("img => img.complete && img.naturalWidth") > 600  # the KYC file loads


def test_e_mail_link_pages_work_under_gunicorn(visit, served):
    visit.open(served.confirmation_link("linus@example.com"), "input[type=submit]", "confirm")
    assert _styled(visit, "#header") not in ("rgba(0, 0, 0, 0)", "")
    visit.page.click("input[type=submit]")
    visit.page.wait_for_selector("#page-done")
    visit.settle()
    visit.check("confirmed")
    assert "linus@example.com" in visit.page.inner_text("#page-done")

    before = served.mail_offset()
    requests.post(
        f"{served.url}/api/v2/identity/users/password/generate_code",
        json={"email": "linus@example.com"},
        timeout=30,
    ).raise_for_status()
    visit.open(served.mail_link("/accounts/password_reset", before), "#id_password", "reset")
    # Both password fields as wide as each other, the form's whole width.
    assert visit.width("#id_password") == visit.width("#id_confirm_password")
    assert visit.width("#id_password") > 0.9 * visit.width("form")


def test_static_files_are_hashed_compressed_and_cached(served):
    html = requests.get(f"{served.url}/admin/login/", timeout=30).text
    css = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', html)
    assert css, "the page names the hashed file"
    answer = requests.get(
        served.url + css.group(1), headers={"Accept-Encoding": "gzip"}, timeout=30
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Encoding"] == "gzip"
    assert "immutable" in answer.headers["Cache-Control"]
    assert "max-age=315360000" in answer.headers["Cache-Control"]
    assert "#header" in answer.text
    # DEBUG is off: a missing file is a plain 404, no page listing the URL patterns.
    missing = requests.get(f"{served.url}/static/admin/css/missing.css", timeout=30)
    assert missing.status_code == 404
    assert "URLconf" not in missing.text


# ---------------------------------------------------------------- back-office polish
def test_back_office_pages_as_an_operator_reads_them(visit):
    # The login page: the 2FA code field as wide as the password's.
    visit.open("/admin/login/", "#id_otp_code", "admin-login")
    assert visit.width("#id_otp_code") == visit.width("#id_password")
    _log_in(visit, OPERATOR, OPERATOR_PASSWORD)

    # The user list fits a 1400 px window beside the sidebar and the filters.
    visit.open("/admin/accounts/user/", "#result_list", "admin-users")
    overflow = visit.page.locator(".results").evaluate("box => box.scrollWidth - box.clientWidth")
    assert overflow <= 0
    assert visit.page.evaluate("document.documentElement.scrollWidth") <= 1400

    # A user: the role is chosen from the known roles; the rows' captions carry no ids.
    visit.page.click("text=pending@barong.example")
    visit.page.wait_for_selector("select[name=role]")
    visit.settle()
    visit.check("admin-user")
    roles = visit.page.locator("select[name=role] option").all_inner_texts()
    assert roles[:2] == ["member", "superadmin"]
    assert {"admin", "compliance", "support", "broker"} <= set(roles)
    user_id = re.search(r"/user/(\d+)/change/", visit.page.url).group(1)
    captions = visit.page.locator("td.original p").all_inner_texts()
    assert captions
    for caption in captions:
        assert not re.search(rf"\b{user_id}\b", caption), caption
        assert " of " not in caption, caption

    # The review queue: one sidebar entry lit, and the scan looks like a passport page.
    visit.open("/admin/kyc/document/review/", ".kyc-card img", "admin-kyc-queue")
    lit = visit.page.locator("#nav-sidebar tr.current-model").all_inner_texts()
    assert [text.strip() for text in lit] == ["Document review queue (1)"]
    size = visit.page.locator(".kyc-card img").first.evaluate(
        "img => [img.naturalWidth, img.naturalHeight]"
    )
    assert 1.35 < size[0] / size[1] < 1.5
