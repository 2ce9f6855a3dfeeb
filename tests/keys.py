"""Private keys as the settings and files of a deployment hold them: PKCS#8 PEM text."""

from cryptography.hazmat.primitives import serialization


def private_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
