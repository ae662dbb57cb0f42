"""Secrets at rest: encrypted with a key from the server's configuration, never the database.

The key comes from ``mfg_secret_key`` in the [options] section of odoo.conf (or the
MFG_SECRET_KEY environment variable for containers), so a dump of the database holds
ciphertext only. Several keys may be given separated by commas: the first encrypts, all
decrypt (key rotation: put the new key first, re-save or run the migration, drop the old).
Each key is any random string of at least 32 characters; it is stretched to a Fernet key
(AES-128-CBC + HMAC-SHA256, authenticated: a tampered value is detected).
"""
import base64
import functools
import hashlib
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PREFIX = "mfgenc1:"
MIN_KEY_CHARS = 32
HOW_TO = ("Set 'mfg_secret_key = <random string of at least 32 characters>' in the "
          "[options] section of the Odoo configuration file (setup/install.sh generates one "
          "into var/mfg_secret_key), or the MFG_SECRET_KEY environment variable, and restart "
          "Odoo. Generate one with: python3 -c 'import secrets; "
          "print(secrets.token_urlsafe(32))'")


class SecretBoxError(Exception):
    """No usable key, or a stored value that cannot be decrypted with it."""


def key_setting():
    """The configured key(s) as written: config option first, then the environment."""
    from odoo.tools import config
    return (config.get("mfg_secret_key") or os.environ.get("MFG_SECRET_KEY") or "").strip()


@functools.lru_cache(maxsize=4)
def _box(setting):
    keys = [part.strip() for part in setting.split(",") if part.strip()]
    if not keys:
        raise SecretBoxError("No encryption key for integration secrets is configured. "
                             + HOW_TO)
    short = [key for key in keys if len(key) < MIN_KEY_CHARS]
    if short:
        raise SecretBoxError(f"mfg_secret_key is too short ({len(short[0])} characters, at "
                             f"least {MIN_KEY_CHARS} needed). " + HOW_TO)
    return MultiFernet([
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(
            b"mfg-integration-secret-v1\x00" + key.encode()).digest()))
        for key in keys])


def is_encrypted(value):
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt(plaintext):
    """Ciphertext to store for ``plaintext``; empty stays empty (no key needed for it)."""
    if not plaintext:
        return False
    return PREFIX + _box(key_setting()).encrypt(plaintext.encode()).decode()


def decrypt(stored, what="secret"):
    """Plaintext of a stored value. A value without the prefix is one written before
    encryption existed (until the migration encrypts it) and is returned as it is."""
    if not stored:
        return False
    if not is_encrypted(stored):
        return stored
    try:
        return _box(key_setting()).decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:
        raise SecretBoxError(
            f"The stored {what} cannot be decrypted: it was encrypted with another "
            "mfg_secret_key or altered in the database. Configure the key it was saved with "
            "(keys can be listed comma-separated), or enter the secret again.") from None
