"""/resource/documents: KYC uploads are checked, stored privately, all or none, within the limit."""

import contextlib
import threading
import time
import zlib
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Label
from accounts.services import label_set
from kyc.models import Document
from tests.kyc.conftest import JPG, PDF, PNG, jpg, pdf, png

pytestmark = pytest.mark.django_db
DOCUMENTS = "/api/v2/resource/documents"


def future(days: int = 365) -> str:
    return (timezone.now() + timedelta(days=days)).date().isoformat()


def params(**extra) -> dict:
    return {"doc_type": "Passport", "doc_number": "AB 123-456", "doc_expire": future(), **extra}


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def document_label(user) -> str | None:
    found = Label.objects.filter(user=user, key="document", scope="private").first()
    return found.value if found else None


def test_list_is_empty_at_first(member_api):
    response = member_api.get(DOCUMENTS)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == []


def test_upload_one_file(member, member_api, settings):
    response = member_api.post(DOCUMENTS, {**params(), "upload[]": [png()]}, format="multipart")

    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == {}
    document = Document.objects.get(user=member)
    assert (document.doc_type, document.doc_number, document.doc_expire.isoformat()) == (
        "Passport", "AB 123-456", future(),
    )  # fmt: skip
    assert document.upload.name.endswith("/passport.png")
    assert document_label(member) == "pending"
    assert [p.read_bytes() for p in stored_files(settings)] == [PNG]
    member.refresh_from_db()
    assert member.level == 1


def test_upload_several_files_makes_one_document_each(member, member_api):
    files = [png("front.png"), jpg("back.jpeg"), pdf("scan.PDF")]

    response = member_api.post(DOCUMENTS, {**params(metadata='{"side": 2}'), "upload[]": files})

    assert response.status_code == HTTPStatus.CREATED
    documents = Document.objects.filter(user=member).order_by("id")
    assert [Path(d.upload.name).name for d in documents] == ["front.png", "back.jpeg", "scan.pdf"]
    assert {d.metadata for d in documents} == {'{"side": 2}'}


def test_the_plain_upload_field_is_accepted_too(member, member_api):
    response = member_api.post(DOCUMENTS, {**params(), "upload": [pdf()]})

    assert response.status_code == HTTPStatus.CREATED
    assert Document.objects.filter(user=member).count() == 1


def test_list_shows_only_four_fields_with_a_signed_url(member_api):
    member_api.post(DOCUMENTS, {**params(), "upload[]": [png()]})

    body = member_api.get(DOCUMENTS).json()

    assert len(body) == 1
    assert list(body[0]) == ["upload", "doc_type", "doc_number", "doc_expire"]
    assert body[0]["upload"]["url"].startswith("/api/v2/resource/documents/file/")
    assert body[0]["doc_expire"] == future()


def test_signed_url_serves_the_file_without_a_bearer(api, member_api):
    member_api.post(DOCUMENTS, {**params(), "upload[]": [png()]})
    url = member_api.get(DOCUMENTS).json()[0]["upload"]["url"]

    response = api.get(url)

    assert response.status_code == HTTPStatus.OK
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_tampered_url_is_not_found(api, member_api):
    member_api.post(DOCUMENTS, {**params(), "upload[]": [png()]})
    url = member_api.get(DOCUMENTS).json()[0]["upload"]["url"]

    response = api.get(url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB"))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["record.not_found"]}


def test_a_url_stops_working_after_its_lifetime(api, member_api, settings, monkeypatch):
    settings.BARONG_UPLOAD_AUTH_URL_EXPIRATION = 1
    member_api.post(DOCUMENTS, {**params(), "upload[]": [png()]})
    url = member_api.get(DOCUMENTS).json()[0]["upload"]["url"]
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 61)

    response = api.get(url)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["resource.documents.url_expired"]}


def test_a_forged_url_for_a_guessed_path_is_refused(api):
    response = api.get("/api/v2/resource/documents/file/uploads%2Fdocument%2Fupload%2Fx.png")

    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    ("data", "keys"),
    [
        (
            {},
            [
                "resource.document.missing_doc_type",
                "resource.document.empty_doc_type",
                "resource.document.missing_doc_number",
                "resource.document.empty_doc_number",
                "resource.document.missing_upload",
            ],
        ),
        (
            {"doc_type": "", "doc_number": "", "upload[]": [png()]},
            ["resource.document.empty_doc_type", "resource.document.empty_doc_number"],
        ),
        ({"doc_type": "Passport", "doc_number": "1"}, ["resource.document.missing_upload"]),
    ],
)
def test_missing_parameters(member, member_api, settings, data, keys):
    response = member_api.post(DOCUMENTS, data)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": keys}
    assert not Document.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ({"doc_expire": ""}, "resource.documents.invalid_format"),
        ({"doc_expire": "31/12/2099"}, "resource.documents.invalid_format"),
        ({"doc_expire": "2099-02-30"}, "resource.documents.invalid_format"),
        ({"doc_expire": "x" * 10240}, "resource.documents.invalid_format"),
        ({"doc_expire": "2001-01-01"}, "resource.documents.already_expired"),
        ({"doc_type": "Selfie"}, "doc_type.inclusion"),
        ({"doc_type": "passport"}, "doc_type.inclusion"),
        ({"doc_type": "P" * 10240}, "doc_type.inclusion"),
        ({"doc_number": "AB/123"}, "doc_number.invalid"),
        ({"doc_number": "№123"}, "doc_number.invalid"),
        ({"doc_number": "1" * 129}, "doc_number.too_long"),
        ({"metadata": "{oops"}, "metadata.invalid_format"),
    ],
)
def test_bad_fields_are_refused_and_nothing_is_stored(member, member_api, settings, extra, key):
    response = member_api.post(DOCUMENTS, {**params(**extra), "upload[]": [png()]})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}
    assert not Document.objects.exists()
    assert stored_files(settings) == []
    assert document_label(member) is None


def test_absent_expiry_is_invalid_format_when_required(member_api):
    data = params()
    del data["doc_expire"]

    response = member_api.post(DOCUMENTS, {**data, "upload[]": [png()]})

    assert response.json() == {"errors": ["resource.documents.invalid_format"]}


def test_expiry_is_optional_when_not_required(member, member_api, settings):
    settings.BARONG_REQUIRED_DOCS_EXPIRE = False
    data = params()
    del data["doc_expire"]

    ok = member_api.post(DOCUMENTS, {**data, "upload[]": [png()]})
    bad = member_api.post(DOCUMENTS, {**data, "doc_expire": "soon", "upload[]": [png()]})

    assert ok.status_code == HTTPStatus.CREATED
    assert Document.objects.get(user=member).doc_expire is None
    assert bad.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert bad.json() == {"errors": ["resource.documents.expire_not_a_date"]}


@pytest.mark.parametrize(
    ("file", "key"),
    [
        (png("passport.gif", PNG), "upload.extension_whitelist_error"),
        (png("passport", PNG), "upload.extension_whitelist_error"),
        (png("passport.png.exe", PNG), "upload.extension_whitelist_error"),
        (png("passport.svg", b"<svg onload=alert(1)>"), "upload.extension_whitelist_error"),
        (png("empty.png", b""), "upload.size_range_error"),
        (png("fake.png", b"not a png at all"), "upload.integrity_error"),
        (jpg("scan.jpg", PDF), "upload.integrity_error"),
        (pdf("page.pdf", b"<html><script>alert(1)</script></html>"), "upload.integrity_error"),
        (png("anim.png", b"GIF89a" + b"<script>alert(1)</script>" * 3), "upload.integrity_error"),
        (png("photo.png", JPG), "upload.integrity_error"),
    ],
)
def test_bad_files_are_refused(member, member_api, settings, file, key):
    response = member_api.post(DOCUMENTS, {**params(), "upload[]": [file]})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}
    assert not Document.objects.exists()
    assert stored_files(settings) == []


def test_a_file_over_the_size_limit_is_refused(member_api, settings):
    settings.BARONG_UPLOAD_SIZE_MAX_RANGE = 1
    big = png("big.png", PNG + b"\0" * (1024 * 1024))

    response = member_api.post(DOCUMENTS, {**params(), "upload[]": [big]})

    assert response.json() == {"errors": ["upload.size_range_error"]}
    assert stored_files(settings) == []


def test_a_file_at_the_size_limit_is_accepted(member_api, settings):
    settings.BARONG_UPLOAD_SIZE_MAX_RANGE = 1
    # A whole PNG: an ancillary chunk before IEND fills it (nothing may follow IEND).
    filler = b"\0" * (1024 * 1024 - len(PNG) - 12)
    chunk = len(filler).to_bytes(4, "big") + b"zPad" + filler
    chunk += zlib.crc32(b"zPad" + filler).to_bytes(4, "big")
    exact = png("exact.png", PNG[:-12] + chunk + PNG[-12:])

    response = member_api.post(DOCUMENTS, {**params(), "upload[]": [exact]})

    assert response.status_code == HTTPStatus.CREATED


def test_one_bad_file_among_good_ones_stores_none(member, member_api, settings):
    files = [png("a.png"), png("b.png"), png("c.png", b"not png")]

    response = member_api.post(DOCUMENTS, {**params(), "upload[]": files})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["upload.integrity_error"]}
    assert not Document.objects.exists()
    assert stored_files(settings) == []
    assert document_label(member) is None


def test_a_storage_failure_rolls_back_every_row_and_file(member, member_api, settings, monkeypatch):
    from kyc.storage import PrivateFileStorage

    original = PrivateFileStorage._save
    calls = {"n": 0}

    def flaky(self, name, content):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return original(self, name, content)

    monkeypatch.setattr(PrivateFileStorage, "_save", flaky)

    response = member_api.post(DOCUMENTS, {**params(), "upload[]": [png("a.png"), png("b.png")]})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.documents.storage_error"]}
    assert not Document.objects.exists()
    assert stored_files(settings) == []


def raw_multipart(fields: dict[str, str], filename: str, body: bytes) -> tuple[bytes, str]:
    """A multipart body written by hand, so the file name reaches the server as sent."""
    boundary = "----kycboundary7f3a"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        (
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="upload[]"; filename="{filename}"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + body
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    "name",
    [
        "../../x.png",
        "..\\..\\x.png",
        "/etc/passwd.png",
        "..",
        "....png",
        ".png",
        "a b\u202e.png",
        "ü.png",
        "x" * 300 + ".png",
        "%2e%2e%2fx.png",
    ],
)
def test_hostile_file_names_stay_inside_the_upload_folder(member, member_api, settings, name):
    body, content_type = raw_multipart(params(), name, PNG)

    response = member_api.generic("POST", DOCUMENTS, body, content_type=content_type)

    if response.status_code == HTTPStatus.CREATED:
        stored = Document.objects.get(user=member).upload.name
        assert stored.startswith("uploads/document/upload/")
        assert ".." not in Path(stored).parts
        assert stored.endswith(".png")
        root = Path(settings.MEDIA_ROOT).resolve()
        assert all(root in p.resolve().parents for p in stored_files(settings))
        assert len(stored_files(settings)) == 1
    else:
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert not Document.objects.exists()
        assert stored_files(settings) == []


def test_a_string_instead_of_a_file_is_invalid_upload(member_api):
    response = member_api.post(DOCUMENTS, {**params(), "upload": "x.png"}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.document.invalid_upload"]}


@pytest.mark.parametrize("value", [{"a": 1}, ["x"]])
def test_objects_for_strings_are_refused(member_api, value):
    response = member_api.post(
        DOCUMENTS, {"doc_type": value, "doc_number": value, "upload": value}, format="json"
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["errors"][:2] == [
        "resource.document.invalid_doc_type",
        "resource.document.invalid_doc_number",
    ]


def test_verified_document_label_is_left_alone(member, member_api):
    label_set(user=member, key="document", value="verified", scope="private")

    member_api.post(DOCUMENTS, {**params(), "upload[]": [png()]})

    assert document_label(member) == "verified"


@pytest.mark.parametrize("previous", ["rejected", "replaced", "pending"])
def test_other_document_labels_go_back_to_pending(member, member_api, previous):
    label_set(user=member, key="document", value=previous, scope="private")

    member_api.post(DOCUMENTS, {**params(), "upload[]": [png()]})

    assert document_label(member) == "pending"


def test_limit_reached(member, member_api, settings):
    settings.BARONG_DOC_NUM_LIMIT = 2
    member_api.post(DOCUMENTS, {**params(), "upload[]": [png("a.png"), png("b.png")]})

    response = member_api.post(DOCUMENTS, {**params(), "upload[]": [png()]})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["resource.documents.limit_reached"]}
    assert Document.objects.filter(user=member).count() == 2


def test_limit_will_be_reached(member, member_api, settings):
    settings.BARONG_DOC_NUM_LIMIT = 3
    member_api.post(DOCUMENTS, {**params(), "upload[]": [png("a.png"), png("b.png")]})

    response = member_api.post(DOCUMENTS, {**params(), "upload[]": [png("c.png"), png("d.png")]})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["resource.documents.limit_will_be_reached"]}
    assert Document.objects.filter(user=member).count() == 2


def test_the_default_limit_is_ten(member, member_api):
    first = member_api.post(
        DOCUMENTS, {**params(), "upload[]": [png(f"{i}.png") for i in range(10)]}
    )
    more = member_api.post(DOCUMENTS, {**params(), "upload[]": [png()]})

    assert first.status_code == HTTPStatus.CREATED
    assert more.json() == {"errors": ["resource.documents.limit_reached"]}
    assert Document.objects.filter(user=member).count() == 10


def test_another_users_documents_never_show(member_api, make_user, auth_api):
    auth_api(make_user()).post(DOCUMENTS, {**params(), "upload[]": [png()]})

    assert member_api.get(DOCUMENTS).json() == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_uploads_at_the_limit_store_one(auth_api, settings):
    from tests.factories import make_user_with

    settings.BARONG_DOC_NUM_LIMIT = 1
    user = make_user_with()
    results: list[int] = []
    barrier = threading.Barrier(2)
    # SQLite's in-memory test database answers "table is locked" instead of waiting, so
    # there the two requests take turns; PostgreSQL runs them truly at the same time and
    # the user-row lock is what keeps the count right.
    gate = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()

    def upload(name: str) -> None:
        try:
            client = auth_api(user)
            barrier.wait()
            with gate:
                response = client.post(DOCUMENTS, {**params(), "upload[]": [png(name)]})
            results.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload, args=(f"{i}.png",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [HTTPStatus.CREATED, HTTPStatus.BAD_REQUEST]
    assert Document.objects.filter(user=user).count() == 1
    assert len(stored_files(settings)) == 1


def test_hundreds_of_files_in_one_request_are_refused_cleanly(member, member_api, settings):
    files = [png(f"{i}.png") for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]

    response = member_api.post(DOCUMENTS, {**params(), "upload[]": files})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["resource.documents.limit_will_be_reached"]}
    assert not Document.objects.exists()
    assert stored_files(settings) == []
