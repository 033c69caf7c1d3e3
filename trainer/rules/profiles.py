"""Profiles belong to the browsers that hold them: profile keys, transfer codes, the browser's list.

A profile has no password. Instead, the browser that creates it gets a **profile key**: 32
random bytes, kept in that browser's ``localStorage`` and never in the URL. The server stores
only a hash of each key (:func:`key_hash`), so a copied database opens no profile in a browser.
A browser may hold several keys (a family laptop); a profile may be held by several browsers
(a laptop and a phone), each with its own key.

To move a profile to another device, the holding browser makes a **transfer code**: eight
characters a person can read off one screen and type on another, valid for
:data:`TRANSFER_CODE_TTL` and for one use. The first four characters name the pending transfer,
the last four are the secret; only a hash of the whole code is stored, and after
:data:`TRANSFER_MAX_ATTEMPTS` wrong secrets the code is void, so guessing is hopeless.

Pure: randomness comes from arguments (default :mod:`secrets`), time is passed in.

>>> from datetime import UTC, datetime, timedelta
>>> import random
>>> rng = random.Random(3)
>>> key = new_key(lambda n: rng.randbytes(n))
>>> len(key), is_key(key), is_key(key + "x")
(43, True, False)
>>> code = new_transfer_code(rng.choice)
>>> code.text
'XVCW-A85S'
>>> parse_transfer_code(" xvcw a85s ") == code
True
>>> t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
>>> expires = t0 + TRANSFER_CODE_TTL
>>> judge_transfer(code_hash(code), expires, 0, code, t0 + timedelta(minutes=5)).name
'OK'
>>> judge_transfer(code_hash(code), expires, 0, code, t0 + timedelta(minutes=16)).name
'EXPIRED'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from trainer.clock import require_utc
from trainer.errors import RuleError
from trainer.rules.classroom import JOIN_CODE_ALPHABET

#: Random bytes in a profile key (256 bits: never guessed, never worth brute-forcing).
KEY_BYTES = 32
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
#: Keys one browser may offer per request; more than a family ever needs, and a hostile page
#: cannot make the server hash megabytes.
MAX_KEYS_PER_BROWSER = 20
#: Largest report from the browser's storage component that is read at all.
MAX_BROWSER_REPORT_CHARS = 4_000

#: Same look-alike-free alphabet as join codes: no 0/O, 1/I/L.
TRANSFER_CODE_ALPHABET = JOIN_CODE_ALPHABET
TRANSFER_LOOKUP_CHARS = 4
TRANSFER_SECRET_CHARS = 4
TRANSFER_CODE_TTL = timedelta(minutes=15)
#: Wrong secrets typed for one pending code before it is void.
TRANSFER_MAX_ATTEMPTS = 5
#: Wrong codes one browser session may type before the form is switched off for it.
TRANSFER_MAX_TRIES_PER_SESSION = 10
TRANSFER_REFUSED = (
    "That transfer code is wrong, used or expired. Make a new code on the device that holds "
    "the profile (Progress → Use this profile on another device) and type it within 15 minutes."
)


# -- profile keys --------------------------------------------------------------------------------


def new_key(token_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A fresh profile key: URL-safe base64 of :data:`KEY_BYTES` random bytes (43 characters)."""
    return base64.urlsafe_b64encode(token_bytes(KEY_BYTES)).rstrip(b"=").decode("ascii")


def is_key(value: object) -> bool:
    """True for a well-formed profile key (anything else a browser offers is ignored)."""
    return isinstance(value, str) and _KEY_RE.match(value) is not None


def key_hash(key: str) -> str:
    """What the server stores for a key: hex SHA-256 (the key is random, so no salt or KDF is needed).

    >>> key_hash("A" * 43)[:12]
    'f37a879c0655'
    """
    if not is_key(key):
        raise ValueError("not a profile key")
    return hashlib.sha256(b"trainer-profile-key|" + key.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class BrowserProfiles:
    """What one browser's storage holds: its profile keys and the one it last used.

    ``stored`` is False when the browser refuses to keep site data (private mode, storage off):
    a profile made there lasts only as long as the tab.
    """

    keys: tuple[str, ...] = ()
    current: str | None = None
    stored: bool = True


def read_browser_report(raw: object) -> BrowserProfiles | None:
    """Parse the storage component's report (untrusted JSON text); None if it is not one.

    Malformed keys are dropped, duplicates removed, and at most :data:`MAX_KEYS_PER_BROWSER` kept.

    >>> read_browser_report('{"keys": ["' + "A" * 43 + '", "junk"], "current": "junk"}')
    BrowserProfiles(keys=('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',), current=None, stored=True)
    """
    if not isinstance(raw, str) or len(raw) > MAX_BROWSER_REPORT_CHARS:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    keys = data.get("keys")
    keys = [k for k in keys if is_key(k)] if isinstance(keys, list) else []
    unique = tuple(dict.fromkeys(keys))[:MAX_KEYS_PER_BROWSER]
    current = data.get("current")
    return BrowserProfiles(unique, current if current in unique else None, data.get("stored") is not False)


#: One change the server asks the browser's storage to make: ``{"add": key}``,
#: ``{"remove": key}`` or ``{"current": key or ""}`` (the profile used last, "" for none).
StorageOp = dict[str, str]


def apply_ops(state: BrowserProfiles, ops: Sequence[StorageOp]) -> BrowserProfiles:
    """The storage after ``ops``; the component's JavaScript does exactly this in the browser.

    >>> a, b = "A" * 43, "B" * 43
    >>> apply_ops(BrowserProfiles((a,), a), [{"add": b}, {"current": b}, {"remove": a}])
    BrowserProfiles(keys=('BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',), current='BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', stored=True)
    """
    keys, current = list(state.keys), state.current
    for op in ops:
        if "add" in op and op["add"] not in keys:
            keys.append(op["add"])
        if "remove" in op:
            keys = [k for k in keys if k != op["remove"]]
            current = None if current == op["remove"] else current
        if "current" in op:
            current = op["current"] or None
    return BrowserProfiles(tuple(keys), current if current in keys else None, state.stored)


def queue_op(ops: Sequence[StorageOp], op: StorageOp) -> list[StorageOp]:
    """Add ``op`` to the pending changes, dropping earlier ones it supersedes (same key, or an
    earlier "current"), so the list stays short and can be confirmed one by one; the storage
    it leads to holds the same keys and the same current one as applying every change in turn."""
    if "current" in op:
        kept = [o for o in ops if "current" not in o]
    else:
        subject = op.get("add") or op.get("remove")
        kept = [o for o in ops if subject not in (o.get("add"), o.get("remove"))]
        if "remove" in op:  # removing the current key also un-sets it, even if it is added again later
            kept = [{"current": ""} if o.get("current") == subject else o for o in kept]
    return [*kept, op]


def unconfirmed(ops: Sequence[StorageOp], reported: BrowserProfiles) -> list[StorageOp]:
    """The changes the browser's latest report does not show yet (they are sent again).

    >>> a = "A" * 43
    >>> unconfirmed([{"add": a}, {"current": a}], BrowserProfiles((a,), None))
    [{'current': 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'}]
    """

    def done(op: StorageOp) -> bool:
        if "add" in op:
            return op["add"] in reported.keys
        if "remove" in op:
            return op["remove"] not in reported.keys
        return reported.current == (op.get("current") or None)

    return [op for op in ops if not done(op)]


# -- transfer codes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferCode:
    """A transfer code split into the part that finds the pending transfer and the secret."""

    lookup: str
    secret: str

    @property
    def text(self) -> str:
        """As shown to the learner: ``ABCD-EFGH``."""
        return f"{self.lookup}-{self.secret}"


def new_transfer_code(choice: Callable[[str], str] = secrets.choice) -> TransferCode:
    """A fresh code; pass a seeded ``random.Random().choice`` in tests."""
    chars = "".join(
        choice(TRANSFER_CODE_ALPHABET) for _ in range(TRANSFER_LOOKUP_CHARS + TRANSFER_SECRET_CHARS)
    )
    return TransferCode(chars[:TRANSFER_LOOKUP_CHARS], chars[TRANSFER_LOOKUP_CHARS:])


def parse_transfer_code(typed: object) -> TransferCode:
    """What a learner typed, forgiving case, spaces and dashes; :class:`RuleError` says what is wrong.

    >>> parse_transfer_code("abcd-efg")
    Traceback (most recent call last):
    ...
    trainer.errors.RuleError: A transfer code has 8 characters; you typed 7.
    """
    if not isinstance(typed, str) or len(typed) > 64:
        raise RuleError("Type the 8-character transfer code shown on your other device.")
    code = "".join(ch for ch in typed.upper() if not ch.isspace() and ch != "-")
    length = TRANSFER_LOOKUP_CHARS + TRANSFER_SECRET_CHARS
    if len(code) != length:
        raise RuleError(f"A transfer code has {length} characters; you typed {len(code)}.")
    bad = sorted({ch for ch in code if ch not in TRANSFER_CODE_ALPHABET})
    if bad:
        raise RuleError(
            f"A transfer code never contains {' '.join(repr(c) for c in bad)}; "
            "codes use letters and digits without 0, O, 1, I or L."
        )
    return TransferCode(code[:TRANSFER_LOOKUP_CHARS], code[TRANSFER_LOOKUP_CHARS:])


def code_hash(code: TransferCode) -> str:
    """What the server stores for a code (hex SHA-256 of the whole code)."""
    return hashlib.sha256(f"trainer-transfer-code|{code.lookup}{code.secret}".encode("ascii")).hexdigest()


class Redeem(Enum):
    """The verdict on a typed code whose first four characters found a pending transfer."""

    OK = "ok"
    WRONG = "wrong"  # count the attempt; void the code at TRANSFER_MAX_ATTEMPTS
    EXPIRED = "expired"
    USED_UP = "used_up"


def judge_transfer(
    stored_hash: str, expires_at: datetime, attempts: int, typed: TransferCode, now: datetime
) -> Redeem:
    """Decide a redemption. Expiry and spent attempts win over a right secret, so a code that
    has been guessed at five times cannot be used even by its owner (they make a new one)."""
    if require_utc(now) >= require_utc(expires_at, "expires_at"):
        return Redeem.EXPIRED
    if attempts >= TRANSFER_MAX_ATTEMPTS:
        return Redeem.USED_UP
    if hmac.compare_digest(stored_hash.encode("ascii"), code_hash(typed).encode("ascii")):
        return Redeem.OK
    return Redeem.WRONG


# -- the sidebar's labels ------------------------------------------------------------------------


def unique_labels(names: Sequence[str], reserved: Sequence[str] = ()) -> list[str]:
    """Labels for a picker whose widget matches options by label: equal names get " (2)", " (3)".

    >>> unique_labels(["Ana", "Ben", "Ana", "Study without a profile"], reserved=["Study without a profile"])
    ['Ana', 'Ben', 'Ana (2)', 'Study without a profile (2)']
    """
    taken = set(reserved)
    out = []
    for name in names:
        label, n = name, 1
        while label in taken:
            n += 1
            label = f"{name} ({n})"
        taken.add(label)
        out.append(label)
    return out
