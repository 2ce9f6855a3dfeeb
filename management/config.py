"""The management API's security file, in Barong's ``config/management_api.yml`` format.

::

    keychain:                       # signer name -> public key
      applogic:
        algorithm: RS256            # RS256/384/512, PS256/384/512, ES256/384/512
        value: LS0tLS1CRUdJTi...    # URL-safe base64 of the PEM public key (raw PEM also read)
    jwt: {}                         # ruby-jwt verification options (see docs/compatibility.md)
    scopes:
      write_labels:
        permitted_signers: [applogic, compliance]
        mandatory_signers: [applogic]

The parsed file is cached per process and read again when its modification time or size
changes, so a key rotation needs no restart. A file that does not parse is refused as a
whole (every call 401) and reported by ``manage.py check``: a half-read keychain could let
the wrong signer through.
"""

import base64
import binascii
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings

logger = logging.getLogger(__name__)

RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
MAX_CONFIG_BYTES = 1024 * 1024


class ConfigError(ValueError):
    """The file exists but cannot be trusted; the message names the faulty entry."""


@dataclass(frozen=True)
class Signer:
    name: str
    algorithm: str
    public_key: Any


@dataclass(frozen=True)
class Scope:
    name: str
    permitted_signers: tuple[str, ...]
    mandatory_signers: tuple[str, ...]


@dataclass(frozen=True)
class JwtOptions:
    """The subset of ruby-jwt's options Barong deployments set, with our stricter defaults."""

    leeway: int
    exp_leeway: int
    nbf_leeway: int
    iat_leeway: int
    verify_iss: bool = False
    iss: tuple[str, ...] = ()
    verify_aud: bool = False
    aud: tuple[str, ...] = ()
    verify_sub: bool = False
    sub: str | None = None
    verify_jti: bool = False
    verify_iat: bool = False


@dataclass(frozen=True)
class ManagementConfig:
    keychain: dict[str, Signer]
    scopes: dict[str, Scope]
    jwt: JwtOptions


def pem_decode(value: str) -> bytes:
    """Barong keeps PEM keys as URL-safe base64; plain base64 and raw PEM are read too."""
    text = value.strip()
    if "-----BEGIN" in text:
        return text.encode()
    text = "".join(text.split()).replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("value is not base64") from exc


def _public_key(name: str, entry: Any) -> Signer:
    if not isinstance(entry, dict):
        raise ConfigError(f"keychain.{name} must be a mapping with algorithm and value")
    algorithm = str(entry.get("algorithm") or "").upper()
    value = entry.get("value")
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"keychain.{name}.value is missing")
    try:
        pem = pem_decode(value)
    except ValueError as exc:
        raise ConfigError(f"keychain.{name}.value is not base64 of a PEM key") from exc
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        try:
            serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            raise ConfigError(f"keychain.{name}.value is not a PEM public key") from exc
        raise ConfigError(
            f"keychain.{name} was set to a private key, however it should be public"
        ) from exc
    if algorithm in RSA_ALGORITHMS:
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
            raise ConfigError(f"keychain.{name}: {algorithm} needs an RSA key of 2048 bits or more")
    elif algorithm in EC_CURVES:
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != EC_CURVES[algorithm]:
            raise ConfigError(f"keychain.{name}: {algorithm} needs a {EC_CURVES[algorithm]} key")
    else:
        # HS* would turn a public key into a shared secret anyone can read: refused.
        raise ConfigError(f"keychain.{name}.algorithm {algorithm or '(none)'} is not supported")
    return Signer(name=name, algorithm=algorithm, public_key=key)


def _names(scope: str, entry: dict, key: str) -> tuple[str, ...]:
    raw = entry.get(key) or []
    if not isinstance(raw, list) or not all(isinstance(n, str | int) for n in raw):
        raise ConfigError(f"scopes.{scope}.{key} must be a list of signer names")
    return tuple(str(n) for n in raw)


def _scope(name: str, entry: Any) -> Scope:
    if not isinstance(entry, dict):
        raise ConfigError(f"scopes.{name} must be a mapping")
    permitted = _names(name, entry, "permitted_signers")
    mandatory = _names(name, entry, "mandatory_signers")
    if not mandatory:
        raise ConfigError(
            f"scopes.{name}.mandatory_signers is empty, "
            "however it should contain at least one value"
        )
    return Scope(name=name, permitted_signers=permitted, mandatory_signers=mandatory)


def _seconds(options: dict, key: str, default: int) -> int:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"jwt.{key} must be a whole number of seconds")
    return value


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)


def _jwt_options(raw: Any) -> JwtOptions:
    options = raw or {}
    if not isinstance(options, dict):
        raise ConfigError("jwt must be a mapping of verification options")
    leeway = _seconds(options, "leeway", settings.BARONG_MANAGEMENT_LEEWAY)
    return JwtOptions(
        leeway=leeway,
        exp_leeway=_seconds(options, "exp_leeway", leeway),
        nbf_leeway=_seconds(options, "nbf_leeway", leeway),
        iat_leeway=_seconds(options, "iat_leeway", leeway),
        verify_iss=bool(options.get("verify_iss", False)),
        iss=_strings(options.get("iss")),
        verify_aud=bool(options.get("verify_aud", False)),
        aud=_strings(options.get("aud")),
        verify_sub=bool(options.get("verify_sub", False)),
        sub=None if options.get("sub") is None else str(options["sub"]),
        verify_jti=bool(options.get("verify_jti", False)),
        verify_iat=bool(options.get("verify_iat", False)),
    )


def config_parse(text: str) -> ManagementConfig | None:
    """The file's content as a config; ``None`` when it holds nothing (every call 401)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not YAML: {exc.__class__.__name__}") from exc
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ConfigError("the file must be a mapping with keychain, jwt and scopes")
    keychain_raw = data.get("keychain") or {}
    scopes_raw = data.get("scopes") or {}
    if not isinstance(keychain_raw, dict) or not isinstance(scopes_raw, dict):
        raise ConfigError("keychain and scopes must be mappings")
    keychain = {str(n): _public_key(str(n), entry) for n, entry in keychain_raw.items()}
    scopes = {str(n): _scope(str(n), entry) for n, entry in scopes_raw.items()}
    for scope in scopes.values():
        for name in scope.mandatory_signers:
            if name not in scope.permitted_signers or name not in keychain:
                logger.warning(
                    "management API: scope %s requires signer %s, which it cannot verify "
                    "(not permitted or not in the keychain); its calls will be refused",
                    scope.name,
                    name,
                )
    return ManagementConfig(keychain=keychain, scopes=scopes, jwt=_jwt_options(data.get("jwt")))


_lock = threading.Lock()
_cached: dict[str, Any] = {"stamp": None, "config": None, "error": None}


def config_load(path: str) -> ManagementConfig | None:
    """Read and parse ``path``; raises ConfigError when it cannot be trusted."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError("the file is larger than 1 MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("the file is not UTF-8 text") from exc
    return config_parse(text)


def management_config() -> ManagementConfig | None:
    """The current config, or ``None`` when none is usable (then every call is 401)."""
    path = settings.BARONG_MANAGEMENT_API_CONFIG
    if not path:
        return None
    try:
        stat = os.stat(path)
        stamp: tuple = (path, stat.st_mtime_ns, stat.st_size, stat.st_ino)
    except OSError:
        stamp = (path, None)
    with _lock:
        if _cached["stamp"] == stamp:
            return _cached["config"]
        try:
            config, error = config_load(path), None
        except ConfigError as exc:
            config, error = None, str(exc)
            logger.error("management API config %s refused: %s", path, error)
        _cached.update(stamp=stamp, config=config, error=error)
        return config


def management_config_error() -> str | None:
    """Why the configured file was refused, if it was (for ``manage.py check``)."""
    path = settings.BARONG_MANAGEMENT_API_CONFIG
    if not path:
        return None
    try:
        config_load(path)
    except ConfigError as exc:
        return str(exc)
    return None
