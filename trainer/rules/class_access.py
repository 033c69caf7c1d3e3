"""Who gets into a class and who controls it: join codes a room can read off a projector, and the
host key, stored only as a salted hash and checked in constant time.

Pure and deterministic (pass a seeded ``rng`` in tests); re-exported by
:mod:`trainer.rules.classroom`, where callers think of them as classroom rules.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets

from trainer.errors import RuleError

# --------------------------------------------------------------------------------------------
# Join codes
# --------------------------------------------------------------------------------------------

#: Upper-case letters and digits without the look-alikes 0/O, 1/I/L: a code read off a
#: projector from the back row is typed correctly the first time.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 6


def generate_join_code(rng: random.Random | None = None) -> str:
    """A 6-character code; pass a seeded ``rng`` in tests, else :mod:`secrets` is used.

    >>> generate_join_code(random.Random(7))
    'M9EPXB'
    """
    if rng is None:
        return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))
    return "".join(rng.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_join_code(raw: str) -> str:
    """Turn what a learner typed into a canonical code, or raise :class:`RuleError`.

    Case and spaces/dashes are forgiven ("k7p m3q" works).

    >>> normalise_join_code(" m9e-pxb ")
    'M9EPXB'
    """
    if not isinstance(raw, str):
        raise RuleError("The join code must be text.")
    code = "".join(ch for ch in raw.upper() if not ch.isspace() and ch != "-")
    if len(code) != JOIN_CODE_LENGTH:
        raise RuleError(f"A join code has {JOIN_CODE_LENGTH} characters; you typed {len(code)}.")
    bad = sorted({ch for ch in code if ch not in JOIN_CODE_ALPHABET})
    if bad:
        raise RuleError(
            f"A join code never contains {' '.join(repr(c) for c in bad)}; "
            "codes use letters and digits without 0, O, 1, I or L."
        )
    return code


# --------------------------------------------------------------------------------------------
# Host keys
# --------------------------------------------------------------------------------------------

_HOST_KEY_SCHEME = "sha256"


def hash_host_key(host_key: str, salt: bytes | None = None) -> str:
    """Salted SHA-256 of the host key, as ``sha256$<salt hex>$<digest hex>``.

    Only the hash is stored, so a copied database does not reveal the key. The key is a
    configured secret (high entropy), so a fast salted hash is enough; a password KDF would
    only slow down every host page load.
    """
    if not isinstance(host_key, str) or not host_key:
        raise RuleError("The host key must not be empty.")
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.sha256(salt + host_key.encode("utf-8")).hexdigest()
    return f"{_HOST_KEY_SCHEME}${salt.hex()}${digest}"


def check_host_key(host_key: str, stored_hash: str) -> bool:
    """Constant-time check of a typed host key against :func:`hash_host_key` output.

    >>> check_host_key("s3cret", hash_host_key("s3cret"))
    True
    >>> check_host_key("guess", hash_host_key("s3cret"))
    False
    """
    if not isinstance(host_key, str) or not host_key:
        return False
    try:
        scheme, salt_hex, digest_hex = stored_hash.split("$")
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    if scheme != _HOST_KEY_SCHEME:
        return False
    candidate = hashlib.sha256(salt + host_key.encode("utf-8")).hexdigest()
    return hmac.compare_digest(candidate.encode("ascii"), digest_hex.encode("ascii"))
