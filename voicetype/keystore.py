"""The Azure key in the OS keyring (the ``keyring`` package: Secret Service / KWallet on
Linux, Credential Manager on Windows, the Keychain on macOS).

Precedence (see ``config.load_config``): ``AZURE_AI_SPEECH_KEY`` > ``key`` in the config
file > the keyring. ``keyring`` is imported lazily; ``PYTHON_KEYRING_BACKEND`` chooses
another backend (the tests use a file backend). Nothing here logs or returns the key
except ``read_key``.
"""

from __future__ import annotations

import logging

from voicetype.errors import VoicetypeError

log = logging.getLogger(__name__)

SERVICE = "voicetype"
USERNAME = "azure-speech-key"

_NO_KEYRING_FIX = (
    "install and unlock a keyring (GNOME Keyring or KWallet on Linux), or put the key in "
    "the AZURE_AI_SPEECH_KEY environment variable or `key` in config.toml (readable only "
    "by you) instead"
)


def read_key() -> str:
    """The key stored in the keyring, or "" when there is none or no usable keyring.

    Never raises: a locked, missing or broken keyring means "no key here" (logged at
    debug level without the key)."""
    try:
        import keyring
        from keyring.errors import KeyringError

        value = keyring.get_password(SERVICE, USERNAME)
    except ImportError:
        return ""
    except (KeyringError, RuntimeError, OSError, ValueError) as exc:
        log.debug("no key from the keyring: %s", type(exc).__name__)
        return ""
    return value or ""


def store_key(key: str) -> str:
    """Store ``key`` in the keyring; return the backend's name. Raises ``VoicetypeError``
    (with the fix) when no usable keyring exists."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError as exc:
        raise VoicetypeError("The `keyring` package is not installed", _NO_KEYRING_FIX) from exc
    backend = keyring.get_keyring()
    try:
        keyring.set_password(SERVICE, USERNAME, key)
    except (KeyringError, RuntimeError, OSError, ValueError) as exc:
        raise VoicetypeError(
            f"Could not store the key in the keyring ({type(exc).__name__})", _NO_KEYRING_FIX
        ) from None
    return backend_name(backend)


def backend_name(backend: object) -> str:
    name = getattr(backend, "name", "") or type(backend).__name__
    return str(name)
