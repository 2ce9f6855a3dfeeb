"""Document uploads and the ``document`` label they drive."""

import logging
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.models import Label, User
from accounts.services import label_set
from barong.api.errors import ApiError, model_error_keys
from barong.api.params import date_parse
from kyc.documents import upload_check, upload_errors
from kyc.events import document_event_created
from kyc.models import Document

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------- documents

# A new upload never takes a verified user back to pending (as in Barong).
DOCUMENT_KEPT_LABELS = ("verified",)


def document_expire_parse(raw: object) -> date | None:
    """``doc_expire``: a date as Barong's ``Date`` took it (``YYYY-MM-DD``, ``DD/MM/YYYY``…:
    ``barong.api.params.date_parse``), required and not past when BARONG_REQUIRED_DOCS_EXPIRE."""
    parsed: date | None = None
    if isinstance(raw, datetime):
        parsed = raw.date()
    elif isinstance(raw, date):
        parsed = raw
    elif isinstance(raw, str) and raw.strip():
        parsed = date_parse(raw)
        if parsed is None and not settings.BARONG_REQUIRED_DOCS_EXPIRE:
            raise ApiError("resource.documents.expire_not_a_date")
    elif raw not in (None, "") and not settings.BARONG_REQUIRED_DOCS_EXPIRE:
        raise ApiError("resource.documents.expire_not_a_date")
    if settings.BARONG_REQUIRED_DOCS_EXPIRE:
        if parsed is None:
            raise ApiError("resource.documents.invalid_format")
        if parsed < timezone.now().date():
            raise ApiError("resource.documents.already_expired")
    return parsed


def _document_label_pending(user: User) -> None:
    label = Label.objects.filter(user=user, key="document", scope=Label.Scope.PRIVATE).first()
    if label is None or label.value not in DOCUMENT_KEPT_LABELS:
        label_set(user=user, key="document", value="pending", scope=Label.Scope.PRIVATE)


def document_create_many(
    *,
    user: User,
    doc_type: str,
    doc_number: str,
    doc_expire: object,
    metadata: str | None,
    files: list[File],
    update_labels: bool = True,
) -> list[Document]:
    """One document per file, all or none; the per-user limit is counted under the user lock.

    ``update_labels=False`` (a back-office push of already reviewed papers) leaves the
    ``document`` label as it is.
    """
    expire = document_expire_parse(doc_expire)
    metadata = metadata if metadata not in ("", None) else None
    saved: list[str] = []
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=user.pk)
            count = Document.objects.filter(user=user).count()
            limit = settings.BARONG_DOC_NUM_LIMIT
            if count >= limit:
                raise ApiError("resource.documents.limit_reached", 400)
            if count + len(files) > limit:
                raise ApiError("resource.documents.limit_will_be_reached", 400)
            keys = _document_errors(user, doc_type, doc_number, expire, metadata, files)
            if keys:
                raise ApiError(keys)
            documents = []
            for file in files:
                checked = upload_check(file)
                document = Document(
                    user=user,
                    doc_type=doc_type,
                    doc_number=doc_number,
                    doc_expire=expire,
                    metadata=metadata,
                )
                _document_file_store(document, checked.name, file)
                saved.append(document.upload.name)
                document.save()
                document_event_created(document=document)
                documents.append(document)
            if update_labels:
                _document_label_pending(user)
            return documents
    except BaseException:
        for name in saved:  # the rows rolled back; their files must not stay behind
            _document_file_discard(name)
        raise


def _document_errors(
    user: User,
    doc_type: str,
    doc_number: str,
    expire: date | None,
    metadata: str | None,
    files: list[File],
) -> list[str]:
    keys: list[str] = []
    if doc_type not in settings.BARONG_DOCUMENT_TYPES:
        keys.append("doc_type.inclusion")
    probe = Document(
        user=user, doc_type=doc_type, doc_number=doc_number, doc_expire=expire, metadata=metadata
    )
    try:
        probe.full_clean(exclude=["user", "upload", "doc_type"])
    except ValidationError as exc:
        keys += model_error_keys(exc)
    if not files:
        keys.append("upload.blank")
    for file in files:
        keys += [key for key in upload_errors(file) if key not in keys]
    return keys


def _document_file_store(document: Document, name: str, file: File) -> None:
    try:
        document.upload.save(name, file, save=False)
    except Exception as exc:  # any storage back-end (disk, S3) failure; the cause is logged
        logger.exception("document upload not stored")
        raise ApiError("resource.documents.storage_error") from exc


def _document_file_discard(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception:  # cleanup is best effort; the failure is logged, not raised over the cause
        logger.exception("could not remove %s after a failed upload", name)
