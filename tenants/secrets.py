"""Tenant secrets encrypted at rest (the tenant's own LLM API key).

`EncryptedTextField` keeps the column encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from
the `cryptography` package) and the attribute in clear text in memory: code reads and writes
`tenant.llm_api_key` as before, the database only ever holds a token. Empty stays empty.

Keys come from settings.LLM_KEY_ENCRYPTION_KEYS (env `LLM_KEY_ENCRYPTION_KEYS`, comma-
separated Fernet keys; `python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"` makes one). The first key encrypts; every key
decrypts. Without any, a key is derived from SECRET_KEY (fine for development, and why
changing SECRET_KEY then needs a rotation). To rotate: put the new key first and keep the
old ones after it, run `manage.py rotate_secrets` (re-encrypts every tenant's key with the
first), then drop the old keys.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def _fernet() -> MultiFernet:
    keys = list(settings.LLM_KEY_ENCRYPTION_KEYS) or [
        base64.urlsafe_b64encode(hashlib.sha256(("askpanel-secrets:" + settings.SECRET_KEY).encode()).digest())]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured("LLM_KEY_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded "
                                   "bytes each), separated by commas.") from exc


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode() if text else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored secret cannot be decrypted with LLM_KEY_ENCRYPTION_KEYS (or the key "
                                   "derived from SECRET_KEY): was a key removed before `manage.py rotate_secrets` "
                                   "re-encrypted with the new one?") from exc


def is_encrypted(value: str) -> bool:
    """A Fernet token (version byte 0x80, base64 'gAAAAA...')."""
    return value.startswith("gAAAAA")


def rotate(token: str) -> str:
    """The same secret, encrypted with the first key."""
    return _fernet().rotate(token.encode()).decode() if token else ""


class EncryptedTextField(models.TextField):
    """Text kept encrypted in the database, clear in memory (see the module docstring)."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value
