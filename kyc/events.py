"""The model events of KYC records (profiles, documents, data storage), as Barong shows them."""

from typing import Any
from urllib.parse import quote_plus

from accounts.events import user_aggregate, user_event_json, user_record_event_saved
from events.services import event_record_created, event_time
from kyc.models import DataStorage, Document, Profile


def profile_event_json(profile: Profile) -> dict[str, Any]:
    """A profile without its state (Barong leaves it out)."""
    return {
        "user": user_event_json(profile.user),
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "dob": event_time(profile.dob),
        "address": profile.address,
        "postcode": profile.postcode,
        "city": profile.city,
        "country": profile.country,
        "metadata": profile.metadata,
        "created_at": event_time(profile.created_at),
        "updated_at": event_time(profile.updated_at),
    }


def profile_event_saved(
    *, profile: Profile, before: dict[str, Any] | None, state_moved: bool = False
) -> None:
    """``model.profile.created`` (``before`` None) or ``model.profile.updated`` (also when
    only the state, which events do not show, moved)."""
    user_record_event_saved(
        model="profile",
        user=profile.user,
        after=profile_event_json(profile),
        before=before,
        changed=state_moved,
    )


def document_event_created(*, document: Document) -> None:
    """``model.document.created``; ``upload`` is the file's URL, percent-encoded."""
    record = {
        "user": user_event_json(document.user),
        "upload": quote_plus(document.upload.url, safe=""),
        "doc_type": document.doc_type,
        "doc_number": document.doc_number,
        "doc_expire": event_time(document.doc_expire),
        "metadata": document.metadata,
        "created_at": event_time(document.created_at),
        "updated_at": event_time(document.updated_at),
    }
    event_record_created(
        name="model.document.created", record=record, aggregate=user_aggregate(document.user)
    )


def data_storage_event_created(*, storage: DataStorage) -> None:
    """``model.data_storage.created``."""
    record = {
        "user": user_event_json(storage.user),
        "title": storage.title,
        "data": storage.data,
        "created_at": event_time(storage.created_at),
        "updated_at": event_time(storage.updated_at),
    }
    event_record_created(
        name="model.data_storage.created", record=record, aggregate=user_aggregate(storage.user)
    )
