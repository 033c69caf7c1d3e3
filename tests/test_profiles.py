"""The pure rules of browser-held profiles (keys, the browser's storage, transfer codes) and of
reading an export file, with the clock and randomness passed in."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainer.errors import RuleError
from trainer.rules.profiles import (
    KEY_BYTES,
    MAX_KEYS_PER_BROWSER,
    TRANSFER_CODE_ALPHABET,
    TRANSFER_CODE_TTL,
    TRANSFER_MAX_ATTEMPTS,
    BrowserProfiles,
    Redeem,
    TransferCode,
    apply_ops,
    code_hash,
    is_key,
    judge_transfer,
    key_hash,
    new_key,
    new_transfer_code,
    parse_transfer_code,
    queue_op,
    read_browser_report,
    unconfirmed,
    unique_labels,
)
from trainer.store.learner_file import MAX_IMPORT_BYTES, LearnerFileError, read_file

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
KEYS = [new_key(random.Random(i).randbytes) for i in range(4)]


# -- keys ------------------------------------------------------------------------------------------


def test_a_key_carries_256_random_bits_and_only_its_hash_is_stored() -> None:
    key = new_key()
    assert is_key(key) and KEY_BYTES == 32 and len(key) == 43
    assert new_key() != key
    digest = key_hash(key)
    assert len(digest) == 64 and key not in digest and key_hash(key) == digest


@pytest.mark.parametrize("bad", ["", "x" * 42, "x" * 44, "a/" * 21 + "a", None, 7, ["x" * 43]])
def test_malformed_keys_are_not_keys_and_cannot_be_hashed(bad: object) -> None:
    assert not is_key(bad)
    with pytest.raises(ValueError):
        key_hash(bad)  # type: ignore[arg-type]


# -- what the browser reports ----------------------------------------------------------------------


def test_the_browser_report_is_read_as_untrusted_input() -> None:
    a, b = KEYS[:2]
    report = json.dumps({"keys": [a, "junk", a, b, 5, None], "current": b, "stored": True})
    assert read_browser_report(report) == BrowserProfiles((a, b), b, True)
    assert read_browser_report(json.dumps({"keys": [a], "current": b})) == BrowserProfiles((a,), None)
    assert read_browser_report(json.dumps({"keys": [], "current": None, "stored": False})) == BrowserProfiles(
        (), None, False
    )


@pytest.mark.parametrize(
    "raw",
    [
        None,
        5,
        "",
        "not json",
        "[1, 2]",
        "null",
        "[" * 5000 + "]" * 5000,
        json.dumps({"keys": ["x" * 43] * 200}),
    ],
)
def test_a_hostile_or_broken_report_gives_nothing_or_a_bounded_list(raw: object) -> None:
    got = read_browser_report(raw)
    assert got is None or (len(got.keys) <= 1 and got.current is None)


def test_a_browser_offers_at_most_twenty_keys() -> None:
    many = [new_key(random.Random(100 + i).randbytes) for i in range(30)]
    got = read_browser_report(json.dumps({"keys": many}))
    assert got is not None and got.keys == tuple(many[:MAX_KEYS_PER_BROWSER])


op_strategy = st.one_of(
    st.builds(lambda k: {"add": k}, st.sampled_from(KEYS)),
    st.builds(lambda k: {"remove": k}, st.sampled_from(KEYS)),
    st.builds(lambda k: {"current": k}, st.sampled_from([*KEYS, ""])),
)


@given(st.lists(op_strategy, max_size=12), st.lists(st.sampled_from(KEYS), unique=True, max_size=4))
def test_queued_changes_end_in_the_same_storage_as_every_change_applied(
    ops: list[dict[str, str]], start: list[str]
) -> None:
    """Dropping superseded changes never changes where the browser's storage ends up."""
    state = BrowserProfiles(tuple(start), None)
    queued: list[dict[str, str]] = []
    for op in ops:
        queued = queue_op(queued, op)
    got, want = apply_ops(state, queued), apply_ops(state, ops)
    assert (set(got.keys), got.current) == (set(want.keys), want.current)
    assert len(queued) <= 2 * len(KEYS) + 1


@given(st.lists(op_strategy, max_size=12))
def test_a_report_showing_the_result_confirms_every_change(ops: list[dict[str, str]]) -> None:
    queued: list[dict[str, str]] = []
    for op in ops:
        queued = queue_op(queued, op)
    after = apply_ops(BrowserProfiles(), queued)
    still = unconfirmed(queued, after)
    # Only a "current" naming a key the browser does not hold can stay unconfirmed.
    assert all("current" in op and op["current"] not in after.keys for op in still)
    assert unconfirmed(queued, BrowserProfiles()) == [
        op for op in queued if op.get("add") or ("current" in op and op["current"])
    ]


def test_deleting_the_current_profile_leaves_none_current() -> None:
    a, b = KEYS[:2]
    state = apply_ops(BrowserProfiles((a, b), a), [{"remove": a}])
    assert state == BrowserProfiles((b,), None)


# -- transfer codes --------------------------------------------------------------------------------


def test_a_transfer_code_is_eight_readable_characters() -> None:
    code = new_transfer_code(random.Random(1).choice)
    assert len(code.lookup) == len(code.secret) == 4 and code.text[4] == "-"
    assert set(code.lookup + code.secret) <= set(TRANSFER_CODE_ALPHABET)
    assert not set("0O1IL") & set(TRANSFER_CODE_ALPHABET)
    assert parse_transfer_code(f"  {code.text.lower()} ") == code
    assert parse_transfer_code(code.lookup + " " + code.secret) == code


@pytest.mark.parametrize(
    "typed, message",
    [
        ("ABCD-EFG", "8 characters; you typed 7"),
        ("ABCD-EFGHJ", "you typed 9"),
        ("ABCD-EF0O", "never contains '0' 'O'"),
        ("", "you typed 0"),
        ("x" * 100, "Type the 8-character"),
        (None, "Type the 8-character"),
    ],
)
def test_a_mistyped_code_says_what_is_wrong(typed: object, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_transfer_code(typed)


def test_a_code_is_judged_by_expiry_then_attempts_then_secret() -> None:
    code = TransferCode("ABCD", "EFGH")
    stored = code_hash(code)
    expires = T0 + TRANSFER_CODE_TTL
    just_before = expires - timedelta(microseconds=1)
    assert judge_transfer(stored, expires, 0, code, just_before) is Redeem.OK
    assert judge_transfer(stored, expires, TRANSFER_MAX_ATTEMPTS - 1, code, T0) is Redeem.OK
    assert judge_transfer(stored, expires, 0, TransferCode("ABCD", "EFGJ"), T0) is Redeem.WRONG
    assert judge_transfer(stored, expires, 0, code, expires) is Redeem.EXPIRED
    assert judge_transfer(stored, expires, TRANSFER_MAX_ATTEMPTS, code, T0) is Redeem.USED_UP
    with pytest.raises(ValueError):
        judge_transfer(stored, expires, 0, code, datetime(2026, 1, 5, 9, 0))  # naive clock refused


def test_the_stored_hash_does_not_contain_the_secret() -> None:
    code = TransferCode("ABCD", "EFGH")
    assert "EFGH" not in code_hash(code) and code_hash(code) != code_hash(TransferCode("ABCD", "EFGJ"))


# -- labels ----------------------------------------------------------------------------------------


def test_equal_names_get_distinct_labels_so_the_picker_cannot_confuse_them() -> None:
    labels = unique_labels(["Study without a profile", "Ana", "Ana", "Ana (2)", "Study without a profile"])
    assert labels == [
        "Study without a profile",
        "Ana",
        "Ana (2)",
        "Ana (2) (2)",
        "Study without a profile (2)",
    ]
    assert len(set(labels)) == len(labels)


# -- reading an export file ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"format": ', "not valid JSON"),
        (b"[" * 200_000 + b"]" * 200_000, "nests"),
        (b" " * (MAX_IMPORT_BYTES + 1), "the limit is 5 MB"),
        (b"[]", "expected a JSON object"),
        (b'{"format": "anki"}', "not a learner export"),
    ],
)
def test_a_file_that_is_not_an_export_is_refused_with_a_reason(raw: bytes, message: str) -> None:
    with pytest.raises(LearnerFileError, match=message):
        read_file(raw, T0)


# -- the operator's command ------------------------------------------------------------------------


def test_the_operator_lists_profiles_and_hands_an_unheld_one_to_a_browser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from trainer.cli import main
    from trainer.store import open_store

    url = f"sqlite:///{tmp_path / 'trainer.sqlite3'}"
    with open_store(url) as store:
        old = store.create_learner("Old profile", now=T0)
    assert main(["profiles", "list", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert old.id in out and "held by 0 browsers" in out and "Old profile" in out

    assert main(["profiles", "code", old.id, "--database-url", url]) == 0
    code = re.search(r"Old profile: ([A-Z2-9]{4}-[A-Z2-9]{4})", capsys.readouterr().out)
    assert code is not None
    key = new_key()
    with open_store(url) as store:
        got = store.redeem_transfer_code(code.group(1), key_hash=key_hash(key), now=datetime.now(UTC))
        assert got == old and store.learners_for_keys([key_hash(key)]) == {key_hash(key): old}

    assert main(["profiles", "code", "--database-url", url]) == 2
    assert main(["profiles", "code", "nobody", "--database-url", url]) == 2
    assert "No learner" in capsys.readouterr().err
