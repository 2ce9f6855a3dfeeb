"""KYC services, by concern; every public name is re-exported here.

``from kyc import services; services.profile_create(...)`` and
``from kyc.services import profile_create`` keep working. Labels and levels are
accounts' (``accounts.services``).
"""

from kyc.services.data_storage import (
    DATA_STORAGE_EXCLUDED_TITLES,
    DATA_STORAGE_MAX_LENGTH,
    data_storage_create,
    data_storage_title_excluded,
)
from kyc.services.documents import (
    DOCUMENT_KEPT_LABELS,
    document_create_many,
    document_expire_parse,
)
from kyc.services.operators import (
    DOCUMENT_WAITING,
    data_storage_admin_delete,
    document_admin_decide,
    profile_admin_update,
)
from kyc.services.phones import (
    PHONE_CODE_ATTEMPTS,
    PHONE_CODE_LIFETIME,
    phone_code_send,
    phone_create,
    phone_verify,
)
from kyc.services.profiles import (
    ADDRESS_RE,
    DOB_EARLIEST,
    NAME_RE,
    POSTCODE_RE,
    PROFILE_FIELDS,
    PROFILE_TEXT_RULES,
    profile_create,
    profile_draft_update,
    profile_fields_clean,
    profile_labels_sync,
    profile_update,
)

__all__ = [
    "ADDRESS_RE",
    "DATA_STORAGE_EXCLUDED_TITLES",
    "DATA_STORAGE_MAX_LENGTH",
    "DOB_EARLIEST",
    "DOCUMENT_KEPT_LABELS",
    "DOCUMENT_WAITING",
    "NAME_RE",
    "PHONE_CODE_ATTEMPTS",
    "PHONE_CODE_LIFETIME",
    "POSTCODE_RE",
    "PROFILE_FIELDS",
    "PROFILE_TEXT_RULES",
    "data_storage_admin_delete",
    "data_storage_create",
    "data_storage_title_excluded",
    "document_admin_decide",
    "document_create_many",
    "document_expire_parse",
    "phone_code_send",
    "phone_create",
    "phone_verify",
    "profile_admin_update",
    "profile_create",
    "profile_draft_update",
    "profile_fields_clean",
    "profile_labels_sync",
    "profile_update",
]
