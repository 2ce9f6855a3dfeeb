"""Moving a Barong user table over: read its export, import each user through the services.

The export is either JSON (a list of users, or ``{"users": [...]}``, each with nested
``labels``, ``profiles`` and ``phones``) or CSV: the ``users`` table (columns ``id``,
``uid``, ``email``, ``password_digest``, ``role``, ``state``, ``otp``, ``data``,
``referral_id`` or ``referral_uid``) plus optional ``labels``, ``profiles`` and ``phones``
tables that name their user by ``user_id`` (Barong's id) or ``user_uid``.

Users keep their uid, e-mail, role, data and bcrypt ``password_digest`` (re-hashed with
argon2id at their first login). Level and state follow from the imported private labels,
as everywhere here; a banned, locked or deleted Barong user also gets the private label
that keeps that state, and any other state the labels do not give (Barong's operators set
states by hand) is kept as manual, so no label change or level resync lifts it. TOTP seeds
lived in Vault and cannot be moved: 2FA is off after the import and the count of such
users is reported. A user already present (same uid) is skipped, so running the import
again is harmless.
"""

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_datetime

from accounts.models import Label, User
from accounts.services import email_normalize, label_set, user_create, user_state_import
from barong.api.errors import ApiError
from kyc.models import PROFILE_FIELDS
from management.params import full_message
from management.services import management_activity_record, phone_import, profile_import

# The private label that keeps a Barong state our label-driven state machine would lose.
STATE_LABELS = {"banned": "ban", "locked": "lock", "deleted": "delete"}
# A state as Barong's column may hold one (its state triggers were configurable).
STATE_RE = re.compile(r"\A[a-z][a-z0-9_-]{0,63}\Z")
IMPORT_SOURCE = "import_barong_users"


class ExportError(ValueError):
    """The export cannot be read; the message says which file or row."""


@dataclass
class BarongUser:
    """One user of the export, with the rows of the other tables that belong to them."""

    uid: str
    email: str
    password_digest: str
    role: str = "member"
    state: str = "pending"
    otp: bool = False
    data: str | None = None
    referral_uid: str | None = None
    barong_id: str | None = None
    referral_id: str | None = None
    labels: list[dict[str, Any]] = field(default_factory=list)
    profiles: list[dict[str, Any]] = field(default_factory=list)
    phones: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ImportReport:
    imported: int = 0
    existing: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    otp_dropped: int = 0
    referrals: int = 0
    manual_states: int = 0


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "t", "yes")


def _data_text(value: Any) -> str | None:
    if isinstance(value, dict | list):
        return json.dumps(value)
    return _text(value)


def _user(row: dict[str, Any]) -> BarongUser:
    uid, email = _text(row.get("uid")), _text(row.get("email"))
    if not uid or not email:
        raise ExportError(f"a user without uid or email: {str(row.get('id') or '')[:40]}")
    return BarongUser(
        uid=uid.upper(),
        email=email,
        password_digest=_text(row.get("password_digest")) or "",
        role=_text(row.get("role")) or "member",
        state=_text(row.get("state")) or "pending",
        otp=_flag(row.get("otp")),
        data=_data_text(row.get("data")),
        referral_uid=_text(row.get("referral_uid")),
        barong_id=_text(row.get("id")),
        referral_id=_text(row.get("referral_id")),
        labels=list(row.get("labels") or []),
        profiles=list(row.get("profiles") or []),
        phones=list(row.get("phones") or []),
    )


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return [dict(row) for row in csv.DictReader(handle)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ExportError(f"{path}: {exc}") from exc


def export_read(
    path: Path,
    *,
    labels: Path | None = None,
    profiles: Path | None = None,
    phones: Path | None = None,
) -> list[BarongUser]:
    """Every user of the export, with their labels, profiles and phones attached."""
    if path.suffix.lower() == ".json":
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ExportError(f"{path}: {exc}") from exc
        rows = document.get("users") if isinstance(document, dict) else document
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ExportError(f"{path}: expected a list of user objects")
    else:
        rows = _csv_rows(path)
    users = [_user(row) for row in rows]
    by_key: dict[str, BarongUser] = {}
    for user in users:
        by_key[f"uid:{user.uid}"] = user
        if user.barong_id:
            by_key[f"id:{user.barong_id}"] = user
    for referee in users:
        if referee.referral_uid is None and referee.referral_id:
            referrer = by_key.get(f"id:{referee.referral_id}")
            referee.referral_uid = referrer.uid if referrer else None
    for table, attribute in ((labels, "labels"), (profiles, "profiles"), (phones, "phones")):
        if table is None:
            continue
        for row in _csv_rows(table):
            owner = by_key.get(f"uid:{(_text(row.get('user_uid')) or '').upper()}") or by_key.get(
                f"id:{_text(row.get('user_id'))}"
            )
            if owner is not None:
                getattr(owner, attribute).append(row)
    return users


def _reason(exc: ApiError) -> str:
    return ", ".join(full_message(key) for key in exc.keys)


def _validated_at(value: Any) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    parsed = parse_datetime(text.replace(" UTC", "Z").replace(" ", "T", 1))
    if parsed is None:
        raise ApiError("validated_at.invalid")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)  # Barong stored UTC


def _attach(user: User, record: BarongUser, report: ImportReport) -> None:
    """Labels, profiles and phones: a part that breaks a rule is skipped and reported."""
    for row in record.labels:
        try:
            with transaction.atomic():
                label_set(
                    user=user,
                    key=str(row.get("key") or ""),
                    value=str(row.get("value") or ""),
                    scope=_text(row.get("scope")) or Label.Scope.PUBLIC,
                    description=_text(row.get("description")),
                )
        except ApiError as exc:
            report.warnings.append((record.uid, f"label {row.get('key')}: {_reason(exc)}"))
    for row in record.profiles:
        fields = {name: _text(row.get(name)) for name in PROFILE_FIELDS if _text(row.get(name))}
        try:
            if "dob" in fields:
                fields["dob"] = date.fromisoformat(fields["dob"][:10])
            with transaction.atomic():
                profile_import(user=user, fields=fields, state=_text(row.get("state")))
        except (ApiError, ValueError) as exc:
            reason = _reason(exc) if isinstance(exc, ApiError) else "Dob is invalid"
            report.warnings.append((record.uid, f"profile: {reason}"))
    for row in record.phones:
        try:
            with transaction.atomic():
                phone_import(
                    user=user,
                    number=str(row.get("number") or ""),
                    validated_at=_validated_at(row.get("validated_at")),
                )
        except ApiError as exc:
            report.warnings.append((record.uid, f"phone: {_reason(exc)}"))
    user.refresh_from_db()
    trigger = STATE_LABELS.get(record.state)
    if trigger is not None and user.state != record.state:
        label_set(user=user, key=trigger, value="imported", scope=Label.Scope.PRIVATE)
        user.refresh_from_db()
    if user.state != record.state:  # no label gives it: Barong's operator set it
        user_state_import(user=user, state=record.state)
        report.manual_states += 1


def barong_user_import(*, record: BarongUser, report: ImportReport) -> User | None:
    """Import one user (in a savepoint: a refused user leaves nothing behind)."""
    if User.objects.filter(uid=record.uid).exists():
        report.existing += 1
        return None
    try:
        with transaction.atomic():
            if User.objects.filter(email=email_normalize(record.email)).exists():
                raise ApiError("email.taken")
            if not STATE_RE.match(record.state):
                raise ApiError("state.invalid")
            user = user_create(
                email=record.email,
                password="",
                password_digest=record.password_digest,
                data=record.data,
                role=record.role,
                uid=record.uid,
            )
            _attach(user, record, report)
            management_activity_record(
                user=user,
                action="user import",
                signers=(),
                data={"source": IMPORT_SOURCE, "barong_state": record.state},
            )
    except ApiError as exc:
        report.failed.append((record.uid, _reason(exc)))
        return None
    report.imported += 1
    if record.otp:
        report.otp_dropped += 1
    return user


def batches(records: list[BarongUser], size: int) -> Iterator[list[BarongUser]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


def barong_batch_import(*, records: list[BarongUser], report: ImportReport) -> None:
    """One transaction per batch: a crash rolls the batch back, and a re-run redoes it."""
    with transaction.atomic():
        for record in records:
            barong_user_import(record=record, report=report)


@transaction.atomic
def barong_referrals_link(*, records: list[BarongUser], report: ImportReport) -> None:
    """After every batch: referrers may come later in the file than the users they referred."""
    uids = {r.referral_uid for r in records if r.referral_uid}
    referrers = {u.uid: u for u in User.objects.filter(uid__in=uids)}
    for record in records:
        referrer = referrers.get(record.referral_uid or "")
        if referrer is None:
            continue
        updated = User.objects.filter(uid=record.uid, referral__isnull=True).update(
            referral=referrer
        )
        report.referrals += updated


def summary_text(report: ImportReport, *, limit: int = 20) -> str:
    lines = [
        f"imported: {report.imported}",
        f"already present (skipped): {report.existing}",
        f"refused: {len(report.failed)}",
        f"referrals linked: {report.referrals}",
        f"2FA switched off (TOTP seeds stay in Vault; users enable it again): {report.otp_dropped}",
        f"states kept as set by hand (no label gives them): {report.manual_states}",
        f"parts skipped (label, profile or phone): {len(report.warnings)}",
    ]
    for uid, reason in report.failed[:limit]:
        lines.append(f"  refused {uid}: {reason}")
    for uid, reason in report.warnings[:limit]:
        lines.append(f"  skipped for {uid}: {reason}")
    return "\n".join(lines)
