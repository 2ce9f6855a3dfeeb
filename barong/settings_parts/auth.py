"""Who the caller is: the user model and password hashers, sessions, the API framework and its
schema, JWTs, and the key that encrypts secrets at rest."""

import base64
import secrets

from barong.env import dev_secret, env, env_bool, env_int, env_list
from barong.settings_parts.core import DATA_DIR

# ---------------------------------------------------------------- Auth & sessions
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.OperatorBackend"]
PASSWORD_HASHERS = [
    "accounts.hashers.BarongArgon2Hasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # Digests imported from Barong (management API, import_barong_users); upgraded at login.
    "accounts.hashers.BarongBcryptHasher",
]

BARONG_SESSION_NAME = env("BARONG_SESSION_NAME", "_barong_session")
BARONG_SESSION_EXPIRE_TIME = env_int("BARONG_SESSION_EXPIRE_TIME", 1800)
# Absolute lifetime of a session from its login, however active (docs/operations.md).
BARONG_SESSION_MAX_LIFETIME = env_int("BARONG_SESSION_MAX_LIFETIME", 7 * 24 * 3600)
# Concurrent sessions of one user: a login past it ends the oldest.
BARONG_SESSIONS_PER_USER = env_int("BARONG_SESSIONS_PER_USER", 10)
# Re-authentication (ASVS 7.5.1): adding or removing a passkey and new recovery codes ask
# for a session authenticated (login or step-up) at most this many seconds ago; 0: never.
BARONG_REAUTH_MAX_AGE = env_int("BARONG_REAUTH_MAX_AGE", 900)
# Switching 2FA on asks for it too (off by default: Barong 2.4 clients enable 2FA with a
# code alone, possibly hours after their login).
BARONG_REAUTH_OTP_ENABLE = env_bool("BARONG_REAUTH_OTP_ENABLE", False)
SESSION_ENGINE = "accounts.session_store"  # one round trip per write; an outage is 503
SESSION_COOKIE_NAME = BARONG_SESSION_NAME
SESSION_COOKIE_AGE = 24 * 3600  # Barong's store lifetime, refreshed on every write
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("BARONG_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_SAVE_EVERY_REQUEST = False
LOGIN_URL = "/admin/login/"

# ---------------------------------------------------------------- DRF
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "barong.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Used by barong.api.views.ResourceViewSet (the resource and admin APIs); the public
    # identity views set none.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerJWTAuthentication",
        "accounts.authentication.SessionCookieAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["permissions.api.RolePermission"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "barong.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "barong.api.schema.BarongAutoSchema",
    "DEFAULT_FILTER_BACKENDS": [],
    # No OPTIONS self-description: Barong answers 405, and the schema documents the API.
    "DEFAULT_METADATA_CLASS": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Barong",
    "DESCRIPTION": "Identity, KYC and authorization server (Barong 2.4 API).",
    "VERSION": "2.4.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Shared error statuses, {} bodies and the CSRF/API-key headers; the gateway endpoint.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "barong.api.schema_hooks.complete_responses",
        "permissions.openapi.document_authz",
    ],
    "SCHEMA_PATH_PREFIX": r"/api/v2/(barong/)?",
    "COMPONENT_SPLIT_REQUEST": True,
    # Labels and restrictions both have a "scope" choice: name each set after its model.
    "ENUM_NAME_OVERRIDES": {
        "LabelScopeEnum": "accounts.models.Label.Scope",
        "RestrictionScopeEnum": "permissions.models.Restriction.Scope",
    },
}

# ---------------------------------------------------------------- JWT
# PEM or base64 PEM; development generates one key once and keeps it in DATA_DIR.
JWT_PRIVATE_KEY = env("JWT_PRIVATE_KEY")
JWT_PREVIOUS_PUBLIC_KEY = env("JWT_PREVIOUS_PUBLIC_KEY")
JWT_PRIVATE_KEY_FILE = DATA_DIR / "jwt_private.pem"
JWT_ISSUER = env("JWT_ISSUER", "barong")
JWT_AUDIENCE = env_list("JWT_AUDIENCE", "peatio,barong")
# Seconds of clock skew allowed on a verified token's iat, nbf and exp.
JWT_LEEWAY = env_int("JWT_LEEWAY", 30)
BARONG_JWT_EXPIRE_TIME = env_int("BARONG_JWT_EXPIRE_TIME", 3600)

# ---------------------------------------------------------------- Secrets at rest
BARONG_ENCRYPTION_KEY = env("BARONG_ENCRYPTION_KEY") or dev_secret(
    DATA_DIR, "encryption_key", lambda: base64.b64encode(secrets.token_bytes(32)).decode()
)
# During a rotation: the keys being replaced, comma-separated; they only decrypt.
BARONG_ENCRYPTION_KEYS_PREVIOUS = env_list("BARONG_ENCRYPTION_KEYS_PREVIOUS", "")
