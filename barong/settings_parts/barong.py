"""What Barong itself does: its identity and domain, KYC documents, API-key scopes, the
gateway and trusted proxies, passwords, captcha, phones, labels and states, authz rules,
passkeys, rate limits, the management API and confirmations, and logging."""

from django.core.exceptions import ImproperlyConfigured

from barong.env import env, env_bool, env_choice, env_int, env_json_object, env_list
from barong.proxies import DEFAULT as TRUSTED_PROXIES_DEFAULT
from barong.proxies import trusted_proxies_parse
from barong.settings_parts.core import BASE_DIR, DATA_DIR, PRODUCTION

# ---------------------------------------------------------------- Barong
BARONG_APP_NAME = env("BARONG_APP_NAME", "Barong")
# Where e-mail links point (ops/pages.py answers them). Development: this server itself,
# as `make run` serves it (it passes its PORT); a value with a scheme is used as it is,
# one without gets https://.
BARONG_DOMAIN = env("BARONG_DOMAIN", "openware.com" if PRODUCTION else "http://127.0.0.1:8000")
BARONG_UID_PREFIX = env("BARONG_UID_PREFIX", "ID").upper()
if not (2 <= len(BARONG_UID_PREFIX) <= 6 and BARONG_UID_PREFIX.isalpha()):
    raise ImproperlyConfigured("BARONG_UID_PREFIX must be 2 to 6 letters")
BARONG_DEFAULT_LANGUAGE = env("BARONG_DEFAULT_LANGUAGE", "en").lower()
BARONG_REQUIRED_DOCS_EXPIRE = env_bool("BARONG_REQUIRED_DOCS_EXPIRE", True)
BARONG_DOC_NUM_LIMIT = env_int("BARONG_DOC_NUM_LIMIT", 10)
BARONG_DOCUMENT_TYPES = env_list(
    "BARONG_DOCUMENT_TYPES",
    "Passport,Identity card,Driver license,Utility Bill,Residental,Institutional",
)
BARONG_UPLOAD_SIZE_MIN_RANGE = env_int("BARONG_UPLOAD_SIZE_MIN_RANGE", 1)  # bytes, as Barong
BARONG_UPLOAD_SIZE_MAX_RANGE = env_int("BARONG_UPLOAD_SIZE_MAX_RANGE", 10)  # megabytes
BARONG_UPLOAD_EXTENSION_WHITELIST = [
    ext.lower() for ext in env_list("BARONG_UPLOAD_EXTENSION_WHITELIST", "jpg,jpeg,png,pdf")
]
BARONG_USER_STORAGE_TITLES = env_list("BARONG_USER_STORAGE_TITLES", "personal")
BARONG_CSRF_PROTECTION = env_bool("BARONG_CSRF_PROTECTION", True)
BARONG_APIKEY_NONCE_LIFETIME = env_int("BARONG_APIKEY_NONCE_LIFETIME", 5000)
# What each API-key scope lets a key do: "VERB path-prefix" patterns matched against the
# gateway path authz checks (verb ALL: any; prefix "*": any path). A key with scopes may
# do only what one of them allows (docs/operations.md); a JSON object overrides it.
BARONG_API_KEY_SCOPES = env_json_object(
    "BARONG_API_KEY_SCOPES",
    {
        "read": ["GET *", "HEAD *"],
        "trade": ["ALL api/v2/peatio/market/orders"],
        "withdraw": [
            "ALL api/v2/peatio/account/withdraws",
            "ALL api/v2/peatio/account/beneficiaries",
            "ALL api/v2/peatio/account/internal_transfers",
        ],
    },
)
# Hours that rules marked security_lock refuse a user after 2FA was switched off, the
# password changed or reset, or a recovery code used; 0 switches the lock off.
BARONG_SECURITY_LOCK_HOURS = env_int("BARONG_SECURITY_LOCK_HOURS", 24)
# Which gateway's client-address header is believed: Barong's two values, "cloudflare"
# (X-Forwarded-For only) and "akamai" (also True-Client-IP); anything else stops start-up.
BARONG_GATEWAY = env_choice("BARONG_GATEWAY", "cloudflare", ("cloudflare", "akamai"))
# The peers whose X-Forwarded-For (and, with BARONG_GATEWAY=akamai, True-Client-IP) is
# believed: addresses, CIDR networks, "private" (the default: loopback and private
# ranges), "cloudflare" (its published ranges), "none" (barong/proxies.py).
try:
    BARONG_TRUSTED_PROXIES = trusted_proxies_parse(
        env("BARONG_TRUSTED_PROXIES").strip() or TRUSTED_PROXIES_DEFAULT
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"BARONG_TRUSTED_PROXIES: {exc}") from None
BARONG_PASSWORD_REGEXP = env("BARONG_PASSWORD_REGEXP")
BARONG_PASSWORD_MIN_ENTROPY = env_int("BARONG_PASSWORD_MIN_ENTROPY", 14)
BARONG_PASSWORD_USE_DICTIONARY = env_bool("BARONG_PASSWORD_USE_DICTIONARY", True)
# The password rules, in Barong's order of checks; each refusal's code is the API's error key
# (accounts/passwords.py). The API, the back-office forms and changepassword all use them.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.passwords.LengthValidator"},
    {"NAME": "accounts.passwords.PatternValidator"},
    {"NAME": "accounts.passwords.CommonListValidator"},
    {"NAME": "accounts.passwords.EntropyValidator"},
]
BARONG_CAPTCHA = env("BARONG_CAPTCHA", "none").lower()
if BARONG_CAPTCHA not in ("none", "recaptcha", "geetest"):
    raise ImproperlyConfigured("BARONG_CAPTCHA must be none, recaptcha or geetest")
BARONG_CAPTCHA_PROTECTED_ENDPOINTS = env_list(
    "BARONG_CAPTCHA_PROTECTED_ENDPOINTS",
    "user_create,session_create,password_reset,email_confirmation",
)
BARONG_RECAPTCHA_SITE_KEY = env("BARONG_RECAPTCHA_SITE_KEY")
BARONG_RECAPTCHA_SECRET_KEY = env("BARONG_RECAPTCHA_SECRET_KEY")
BARONG_RECAPTCHA_VERIFY_URL = env(
    "BARONG_RECAPTCHA_VERIFY_URL", "https://www.google.com/recaptcha/api/siteverify"
)
BARONG_GEETEST_ID = env("BARONG_GEETEST_ID")
BARONG_GEETEST_KEY = env("BARONG_GEETEST_KEY")
BARONG_GEETEST_API_URL = env("BARONG_GEETEST_API_URL", "https://api.geetest.com")
BARONG_CAPTCHA_TIMEOUT = env_int("BARONG_CAPTCHA_TIMEOUT", 5)
BARONG_PHONE_VERIFICATION = env("BARONG_PHONE_VERIFICATION", "mock").lower()
BARONG_TWILIO_PHONE_NUMBER = env("BARONG_TWILIO_PHONE_NUMBER", "+15005550000")
BARONG_TWILIO_ACCOUNT_SID = env("BARONG_TWILIO_ACCOUNT_SID")
BARONG_TWILIO_AUTH_TOKEN = env("BARONG_TWILIO_AUTH_TOKEN")
BARONG_TWILIO_SERVICE_SID = env("BARONG_TWILIO_SERVICE_SID")
BARONG_TWILIO_API_URL = env("BARONG_TWILIO_API_URL", "https://api.twilio.com")
BARONG_TWILIO_VERIFY_URL = env("BARONG_TWILIO_VERIFY_URL", "https://verify.twilio.com")
BARONG_SMS_CONTENT_TEMPLATE = env(
    "BARONG_SMS_CONTENT_TEMPLATE", "Your verification code for Barong: {{code}}"
)
BARONG_ACTIVATION_REQUIREMENTS = {"email": "verified"}
BARONG_STATE_TRIGGERS = {
    "banned": ["ban", "fraud"],
    "deleted": ["delete"],
    "locked": ["suspicious", "lock"],
}
# Keys users may never set on their own labels: they drive state or belong to operators.
BARONG_RESERVED_LABEL_KEYS = ["ban", "fraud", "delete", "lock", "suspicious"]
BARONG_AUTHZ_RULES_FILE = env(
    "BARONG_AUTHZ_RULES_FILE", str(BASE_DIR / "permissions" / "seeds" / "authz_rules.yml")
)
BARONG_SEED_LEVELS_FILE = str(BASE_DIR / "accounts" / "seeds" / "levels.yml")
BARONG_SEED_PERMISSIONS_FILE = str(BASE_DIR / "permissions" / "seeds" / "permissions.yml")
BARONG_GIT_TAG = env("BARONG_GIT_TAG", "2.4.0")
BARONG_GIT_SHA = env("BARONG_GIT_SHA", "")
BARONG_BUILD_DATE = env("BARONG_BUILD_DATE", "")

# GET /metrics needs "Authorization: Bearer <token>" when set (docs/operations.md).
BARONG_METRICS_TOKEN = env("BARONG_METRICS_TOKEN")

# Passkeys (WebAuthn): the relying party is the site the front end is served from.
BARONG_WEBAUTHN_RP_ID = env("BARONG_WEBAUTHN_RP_ID", "localhost")
BARONG_WEBAUTHN_RP_NAME = env("BARONG_WEBAUTHN_RP_NAME", BARONG_APP_NAME)
BARONG_WEBAUTHN_ORIGINS = [
    origin.strip()
    for origin in env("BARONG_WEBAUTHN_ORIGIN", "http://localhost:8000").split(",")
    if origin.strip()
]
BARONG_WEBAUTHN_CHALLENGE_TTL = env_int("BARONG_WEBAUTHN_CHALLENGE_TTL", 300)

# Rate limits: "<count>/<seconds>", counted in the cache (Redis in production).
BARONG_RATE_LIMITS = env_bool("BARONG_RATE_LIMITS", True)
BARONG_RATE_LIMIT_RULES = {
    "login_ip": env("BARONG_RATE_LOGIN_IP", "30/300"),
    # Failed logins only (docs/operations.md): per account and address, so an attacker
    # locks out nobody but their own address, and a looser per-account ceiling against
    # guessing from many addresses (NIST SP 800-63B: at most 100 consecutive failures).
    "login_account_ip": env("BARONG_RATE_LOGIN_ACCOUNT_IP", "10/900"),
    "login_account": env("BARONG_RATE_LOGIN_ACCOUNT", "100/3600"),
    "signup_ip": env("BARONG_RATE_SIGNUP_IP", "20/3600"),
    "email_code_ip": env("BARONG_RATE_EMAIL_CODE_IP", "20/3600"),
    "email_code_account": env("BARONG_RATE_EMAIL_CODE_ACCOUNT", "5/3600"),
    "otp_account": env("BARONG_RATE_OTP_ACCOUNT", "10/300"),
    "password_account": env("BARONG_RATE_PASSWORD_ACCOUNT", "10/300"),
    "phone_code_account": env("BARONG_RATE_PHONE_CODE_ACCOUNT", "5/600"),
    "phone_verify_account": env("BARONG_RATE_PHONE_VERIFY_ACCOUNT", "10/600"),
    "sessions_account": env("BARONG_RATE_SESSIONS_ACCOUNT", "60/60"),
    "export_account": env("BARONG_RATE_EXPORT_ACCOUNT", "5/3600"),
    "recovery_code_account": env("BARONG_RATE_RECOVERY_CODE_ACCOUNT", "5/300"),
    "webauthn_account": env("BARONG_RATE_WEBAUTHN_ACCOUNT", "20/300"),
    # Reads and removals of the own passkeys and recovery codes (docs/operations.md).
    "webauthn_read_account": env("BARONG_RATE_WEBAUTHN_READ_ACCOUNT", "60/60"),
    "webauthn_delete_account": env("BARONG_RATE_WEBAUTHN_DELETE_ACCOUNT", "10/60"),
    "recovery_code_count_account": env("BARONG_RATE_RECOVERY_CODE_COUNT_ACCOUNT", "60/60"),
    # PUT /resource/users/me: a language switch now and then; each change is an activity row.
    "data_account": env("BARONG_RATE_DATA_ACCOUNT", "30/60"),
}

# Management API (server-to-server, multisig JWS): a file in Barong's management_api.yml
# format. Unset, missing or empty: every management call answers 401.
BARONG_MANAGEMENT_API_CONFIG = env("BARONG_MANAGEMENT_API_CONFIG")
# A management body carries a base64 document (4/3 of its size) inside a JWS.
BARONG_MANAGEMENT_MAX_BODY = env_int(
    "BARONG_MANAGEMENT_MAX_BODY", BARONG_UPLOAD_SIZE_MAX_RANGE * 1024 * 1024 * 4 // 3 + 65536
)
# Clock skew allowed on exp/nbf/iat when the config file's ``jwt`` options set no leeway.
BARONG_MANAGEMENT_LEEWAY = env_int("BARONG_MANAGEMENT_LEEWAY", 30)
# How far ahead a management call's exp may be, in seconds (plus the leeway). Barong's
# callers sign for 60 s (applogic, Barong's own clients); used tokens are remembered
# this long, so it also bounds the replay memory in Redis.
BARONG_MANAGEMENT_MAX_LIFETIME = env_int("BARONG_MANAGEMENT_MAX_LIFETIME", 300)
# The RSA key of otp/sign's "barong" signature (PEM or base64 PEM), kept apart from the JWT
# key so that nothing it signs can pass as a session token (management/keys.py).
# Development generates one once into DATA_DIR; production without it signs with the JWT
# key, as Barong 2.4 did, and `manage.py check --deploy` warns.
BARONG_MANAGEMENT_SIGNING_KEY = env("BARONG_MANAGEMENT_SIGNING_KEY")
BARONG_MANAGEMENT_SIGNING_KEY_FILE = DATA_DIR / "management_signing.pem"

# Confirmations bound to an operation (management/confirmations.py): how long the user has
# to confirm (and the signed confirmation stays valid), how many wrong codes or assertions
# void one, and the origins the confirmation page may send the browser back to (the
# WebAuthn origins by default; anything else is refused, never followed).
BARONG_CONFIRMATION_TTL = env_int("BARONG_CONFIRMATION_TTL", 300)
BARONG_CONFIRMATION_MAX_ATTEMPTS = env_int("BARONG_CONFIRMATION_MAX_ATTEMPTS", 3)
# Rows are deleted this many days after they expire (management/tasks.py, hourly).
BARONG_CONFIRMATION_RETENTION_DAYS = env_int("BARONG_CONFIRMATION_RETENTION_DAYS", 30)
BARONG_CONFIRMATION_RETURN_ORIGINS = [
    origin.strip().rstrip("/")
    for origin in env(
        "BARONG_CONFIRMATION_RETURN_ORIGINS", ",".join(BARONG_WEBAUTHN_ORIGINS)
    ).split(",")
    if origin.strip()
]

# The model whose rows name the roles that exist (accounts.selectors.role_exists): it
# lives in an app above accounts, so it is named here, as AUTH_USER_MODEL names the user.
BARONG_ROLE_MODEL = "permissions.Permission"
