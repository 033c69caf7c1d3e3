"""One contract for the store, run against every backend: SQLite (a temp file) and a real
PostgreSQL (see ``tests/conftest_pg.py``; skipped without one unless ``TRAINER_REQUIRE_PG=1``).

Every test gets a fresh, empty database. "Two Store objects on one URL" stands in for two
server processes: they share nothing but the database.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fsrs import Rating
from sqlalchemy import event, func, inspect, select, text

from trainer.errors import ConflictError, NotFoundError, RuleError, StoreError
from trainer.rules import classroom as rules
from trainer.rules.classroom import Phase
from trainer.rules.profiles import TRANSFER_CODE_TTL, TRANSFER_MAX_ATTEMPTS, TransferCode, key_hash, new_key
from trainer.rules.srs import review
from trainer.store import ANSWER_CSV_COLUMNS, LiveSession, Store, migrations, open_store, schema
from trainer.store.learner_file import LearnerFileError

T0 = datetime(2025, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
QUESTIONS = ("q.sural.locate", "q.saphenous.locate", "q.lfcn.locate")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'trainer.sqlite3'}"
    return str(request.getfixturevalue("pg_database_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.close()


@pytest.fixture
def other_store(db_url: str, store: Store) -> Iterator[Store]:
    """A second, independent Store on the same database: a second server process."""
    s = Store(db_url)
    yield s
    s.close()


def open_session(store: Store, *, limit_s: float = 20, speed_bonus: bool = True) -> LiveSession:
    """A session with question 0 open at T0."""
    session = store.create_session(
        title="Knee workshop",
        host_key="host-secret",
        question_ids=QUESTIONS,
        now=T0,
        settings=rules.LiveSettings(time_limit_s=limit_s, speed_bonus=speed_bonus),
        rng=random.Random(3),
    )
    state = rules.open_question(session.rules_state(), now=T0, time_limit_s=limit_s)
    return store.save_rules_state(session.id, session.version, state, now=T0)


# -- migrations --------------------------------------------------------------------------------


def test_a_fresh_database_is_migrated_to_the_latest_version(store: Store) -> None:
    assert store.schema_version() == migrations.LATEST_VERSION
    with store.engine.connect() as conn:
        versions = conn.execute(select(schema.schema_version.c.version).order_by("version")).scalars().all()
    assert versions == list(range(1, migrations.LATEST_VERSION + 1))


def test_migrated_tables_match_the_schema_module(store: Store) -> None:
    insp = inspect(store.engine)
    for table in schema.metadata.sorted_tables:
        columns = {c["name"]: c["nullable"] for c in insp.get_columns(table.name)}
        expected = {c.name: c.nullable for c in table.columns}
        assert columns == expected, table.name
    index_names = {
        ix["name"] for name in ("attempts", "review_cards", "answers") for ix in insp.get_indexes(name)
    }
    assert {"ix_attempts_learner_created", "ix_review_cards_learner_due", "ix_answers_player"} <= index_names
    assert insp.get_pk_constraint("answers")["constrained_columns"] == [
        "session_id",
        "question_index",
        "player_id",
    ]


def test_reopening_a_migrated_database_is_a_no_op(db_url: str, store: Store) -> None:
    with store.engine.connect() as conn:
        before = conn.execute(select(schema.schema_version)).all()
    again = Store(db_url)
    try:
        assert again.migrate() == []
        with again.engine.connect() as conn:
            assert conn.execute(select(schema.schema_version)).all() == before
    finally:
        again.close()


def test_a_database_newer_than_the_code_is_refused(db_url: str, store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            schema.schema_version.insert().values(version=migrations.LATEST_VERSION + 1, applied_at=T0)
        )
    with pytest.raises(StoreError, match="newer"):
        Store(db_url)


# -- learners, attempts, review cards ----------------------------------------------------------


def test_learner_crud(store: Store) -> None:
    ana = store.create_learner("  Ana  ", now=T0)
    ben = store.create_learner("Ben", now=T0 + timedelta(seconds=1))
    assert ana.display_name == "Ana"
    assert store.get_learner(ana.id) == ana
    assert [lr.id for lr in store.list_learners()] == [ana.id, ben.id]
    assert store.rename_learner(ana.id, "Ana M.").display_name == "Ana M."
    store.delete_learner(ana.id)
    assert [lr.id for lr in store.list_learners()] == [ben.id]
    with pytest.raises(NotFoundError):
        store.get_learner(ana.id)
    with pytest.raises(ConflictError):
        store.create_learner("Ben again", now=T0, learner_id=ben.id)


def record(store: Store, learner_id: str | None, minute: int, credit: float = 0.5, q: str = "q1") -> Any:
    return store.record_attempt(
        learner_id=learner_id,
        question_id=q,
        view_id="knee_anterior_right",
        side="right",
        body_type="neutral",
        pins=[[12.5, -3.25, 0.1]],
        distances_cm=[1.8],
        directions=[{"axis": "proximal", "cm": 1.8}],
        credit=credit,
        duration_ms=4200,
        now=T0 + timedelta(minutes=minute),
    )


def test_attempts_are_listed_oldest_first_and_filtered_by_since(store: Store) -> None:
    ana = store.create_learner("Ana", now=T0)
    a2 = record(store, ana.id, 2)
    a1 = record(store, ana.id, 1)
    anon = record(store, None, 3)
    assert store.list_attempts(ana.id) == [a1, a2]
    assert store.list_attempts(ana.id, since=T0 + timedelta(minutes=2)) == [a2]
    assert store.list_attempts(None) == [anon]
    got = store.list_attempts(ana.id)[0]
    assert got.pins == [[12.5, -3.25, 0.1]] and got.directions == [{"axis": "proximal", "cm": 1.8}]


def test_review_cards_upsert_and_due_queue(store: Store) -> None:
    ana = store.create_learner("Ana", now=T0)
    assert store.get_review_card(ana.id, "q1") is None
    store.upsert_review_card(ana.id, "q1", {"state": 1, "stability": 2.5}, due=T0 + timedelta(days=2), now=T0)
    store.upsert_review_card(ana.id, "q2", {"state": 2}, due=T0 - timedelta(hours=1), now=T0)
    store.upsert_review_card(ana.id, "q3", {"state": 2}, due=T0, now=T0)
    updated = store.upsert_review_card(ana.id, "q1", {"state": 3}, due=T0 - timedelta(days=1), now=T0)
    assert store.get_review_card(ana.id, "q1") == updated
    assert [c.card_id for c in store.list_due(ana.id, now=T0)] == ["q1", "q2", "q3"]
    assert [c.card_id for c in store.list_due(ana.id, now=T0, limit=1)] == ["q1"]
    assert [c.card_id for c in store.list_due(ana.id, now=T0 - timedelta(minutes=90))] == ["q1"]
    assert len(store.list_review_cards(ana.id)) == 3


# -- issue 12: an answer and its cards are one transaction ---------------------------------------

CARDS = ("q:q1", "n:nerve_a:locate", "n:nerve_b:locate")


def record_reviewed(store: Store, learner_id: str, minute: int, review_card: Any) -> Any:
    """``record`` with the answer's FSRS cards reviewed in the same write."""
    return store.record_attempt(
        learner_id=learner_id,
        question_id="q1",
        pins=[],
        distances_cm=[],
        directions=[],
        credit=1.0,
        now=T0 + timedelta(minutes=minute),
        cards=CARDS,
        review=review_card,
    )


def fsrs_good(minute: int) -> Callable[[str, dict[str, Any] | None], tuple[dict[str, Any], datetime]]:
    return lambda card_id, stored: review(stored, card_id, Rating.Good, T0 + timedelta(minutes=minute))


def test_an_answer_reviews_each_card_as_stored_inside_its_write(store: Store) -> None:
    ana = store.create_learner("Ana", now=T0)
    seen: list[tuple[str, dict[str, Any] | None]] = []

    def good_and_remember(card_id: str, stored: dict[str, Any] | None) -> tuple[dict[str, Any], datetime]:
        seen.append((card_id, stored))
        return fsrs_good(1)(card_id, stored)

    record_reviewed(store, ana.id, 0, fsrs_good(0))
    first = {c.card_id: c.card for c in store.list_review_cards(ana.id)}
    assert set(first) == set(CARDS)
    record_reviewed(store, ana.id, 1, good_and_remember)
    assert seen == [(c, first[c]) for c in CARDS]  # the second answer builds on the first one's cards
    expected = {c: review(first[c], c, Rating.Good, T0 + timedelta(minutes=1)) for c in CARDS}
    assert {c.card_id: (c.card, c.due) for c in store.list_review_cards(ana.id)} == expected
    assert len(store.list_attempts(ana.id)) == 2


def test_recording_an_answer_with_its_cards_is_one_transaction(store: Store) -> None:
    ana = store.create_learner("Ana", now=T0)
    begun: list[object] = []

    def on_begin(conn: object) -> None:
        begun.append(conn)

    event.listen(store.engine, "begin", on_begin)
    try:
        record_reviewed(store, ana.id, 0, fsrs_good(0))
    finally:
        event.remove(store.engine, "begin", on_begin)
    assert len(begun) == 1
    assert len(store.list_review_cards(ana.id)) == len(CARDS)


def _fails_on_the_last_card(card_id: str, stored: dict[str, Any] | None) -> tuple[dict[str, Any], datetime]:
    if card_id == CARDS[-1]:
        raise RuntimeError("the scheduler failed half-way")
    return fsrs_good(1)(card_id, stored)


def _unserialisable_last_card(card_id: str, stored: dict[str, Any] | None) -> tuple[dict[str, Any], datetime]:
    card, due = fsrs_good(1)(card_id, stored)
    return ({**card, "stability": float("nan")} if card_id == CARDS[-1] else card), due


@pytest.mark.parametrize(
    ("review_card", "error"),
    [(_fails_on_the_last_card, RuntimeError), (_unserialisable_last_card, ValueError)],
    ids=["a failing review", "a card that cannot be serialised"],
)
def test_a_failure_between_the_attempt_and_its_cards_stores_neither(
    store: Store, review_card: Any, error: type[Exception]
) -> None:
    ana = store.create_learner("Ana", now=T0)
    record_reviewed(store, ana.id, 0, fsrs_good(0))
    before = (store.list_attempts(ana.id), store.list_review_cards(ana.id))
    with pytest.raises(error):
        record_reviewed(store, ana.id, 1, review_card)
    assert (store.list_attempts(ana.id), store.list_review_cards(ana.id)) == before
    fresh = store.create_learner("Bo", now=T0)
    with pytest.raises(error):
        record_reviewed(store, fresh.id, 1, review_card)
    assert store.list_attempts(fresh.id) == [] and store.list_review_cards(fresh.id) == []


def test_cards_need_a_learner_and_a_review(store: Store) -> None:
    with pytest.raises(ValueError, match="learner_id"):
        store.record_attempt(
            learner_id=None,
            question_id="q1",
            pins=[],
            distances_cm=[],
            directions=[],
            credit=1.0,
            now=T0,
            cards=CARDS,
            review=fsrs_good(0),
        )
    assert store.list_attempts(None) == []


def test_delete_learner_removes_all_their_rows_and_nothing_of_others(store: Store) -> None:
    ana = store.create_learner("Ana", now=T0)
    ben = store.create_learner("Ben", now=T0)
    for i in range(3):
        record(store, ana.id, i)
        record(store, ben.id, i)
    record(store, None, 9)
    for who in (ana, ben):
        store.upsert_review_card(who.id, "q1", {"s": 1}, due=T0, now=T0)
    ben_before = store.export_learner(ben.id)

    counts = store.delete_learner(ana.id)

    assert counts == {"learners": 1, "attempts": 3, "review_cards": 1}
    with store.engine.connect() as conn:
        for table in (schema.attempts, schema.review_cards):
            assert conn.execute(select(table).where(table.c.learner_id == ana.id)).all() == []
        assert conn.execute(select(schema.learners.c.id)).scalars().all() == [ben.id]
    assert store.export_learner(ben.id) == ben_before
    assert len(store.list_attempts(None)) == 1
    with pytest.raises(NotFoundError):
        store.delete_learner(ana.id)


def test_export_then_import_round_trips_with_nothing_lost(store: Store) -> None:
    ana = store.create_learner("Ana 🦴", now=T0)
    for i in range(4):
        store.record_attempt(
            learner_id=ana.id,
            question_id=f"q{i}",
            pins=[[0.1 + 0.2, 1e-7], [-5.0, 1234.567891]],
            distances_cm=[0.30000000000000004, None],
            directions=[{"proximal": -1.25, "lateral": 0.5, "anterior": 1e-9}, {}],
            credit=i / 3,
            now=T0 + timedelta(days=i, microseconds=i),
            duration_ms=None if i == 0 else 1000 * i,
        )
    card, due = review(None, "q:q1", Rating.Good, T0)
    store.upsert_review_card(ana.id, "q:q1", card, due=due, now=T0)
    exported = store.export_learner(ana.id)
    as_file = json.loads(json.dumps(exported))  # what another machine would read

    store.delete_learner(ana.id)
    imported = store.import_learner(as_file, now=T0 + timedelta(days=5))

    assert imported == ana
    assert store.export_learner(ana.id) == exported
    with pytest.raises(ConflictError, match="already on this server"):
        store.import_learner(as_file, now=T0 + timedelta(days=5))


def test_import_rejects_foreign_documents(store: Store) -> None:
    with pytest.raises(LearnerFileError, match="format"):
        store.import_learner({"format": "something-else"}, now=T0)


def good_export(learner_id: str = "a" * 32) -> dict[str, Any]:
    card, due = review(None, "q:q1", Rating.Hard, T0)
    return {
        "format": "nerve-mapping-trainer/learner",
        "format_version": 1,
        "learner": {"id": learner_id, "display_name": "Ana", "created_at": T0.isoformat()},
        "attempts": [
            {
                "id": f"{i:032x}",
                "question_id": "q1",
                "view_id": "knee_anterior_right",
                "side": "right",
                "body_type": "female",
                "pins": [[10.0, 20.0]],
                "distances_cm": [1.5],
                "directions": [{"proximal": 1.5, "lateral": 0.0, "anterior": 0.0}],
                "credit": 0.5,
                "duration_ms": 4000,
                "created_at": (T0 + timedelta(minutes=i)).isoformat(),
            }
            for i in range(3)
        ],
        "review_cards": [
            {"card_id": "q:q1", "card": card, "due": due.isoformat(), "updated_at": T0.isoformat()}
        ],
    }


def _set(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``doc`` with one value replaced, e.g. ``attempts.1.credit``."""
    doc = json.loads(json.dumps(doc))
    *parents, last = path.split(".")
    node: Any = doc
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    return doc


MALFORMED_EXPORTS = {
    "credit as text": ("attempts.1.credit", "0.5", "attempts[1].credit"),
    "NaN credit": (
        "attempts.0.credit",
        float("nan"),
        "attempts[0].credit: must be a number from 0 to 1, got NaN",
    ),
    "infinite credit": ("attempts.2.credit", float("inf"), "got Infinity"),
    "credit above one": ("attempts.0.credit", 1.5, "attempts[0].credit"),
    "credit as a boolean": ("attempts.0.credit", True, "attempts[0].credit"),
    "huge pin list": ("attempts.0.pins", [[1.0, 2.0]] * 5000, "attempts[0].pins: has 5000 entries"),
    "huge attempt list": ("attempts", [{}] * 50_001, "attempts: has 50001 entries"),
    "pin with text": ("attempts.0.pins", [["x", 2.0]], "attempts[0].pins[0]"),
    "date without a zone": ("attempts.0.created_at", "2025-03-01T09:00:00", "has no time zone"),
    "not a date": ("attempts.1.created_at", "yesterday", "attempts[1].created_at: is not a date"),
    "date in the future": ("learner.created_at", "2999-01-01T00:00:00+00:00", "learner.created_at"),
    "date as a number": ("review_cards.0.due", 1740819600, "review_cards[0].due"),
    "unknown top-level key": ("extra", {"x": 1}, "file: unknown field 'extra'"),
    "unknown attempt key": ("attempts.0.script", "<b>", "attempts[0]: unknown field 'script'"),
    "direction that is text": ("attempts.0.directions", ["distal"], "attempts[0].directions[0]"),
    "negative duration": ("attempts.0.duration_ms", -5, "attempts[0].duration_ms"),
    "side not a side": ("attempts.0.side", "up", "attempts[0].side"),
    "question id as a list": ("attempts.0.question_id", ["q1"], "attempts[0].question_id"),
    "id with a slash": ("learner.id", "../x", "learner.id"),
    "empty name": ("learner.display_name", "   ", "learner.display_name"),
    "card not for FSRS": ("review_cards.0.card", {"state": 2}, "review_cards[0].card: missing"),
    "card with NaN stability": (
        "review_cards.0.card.stability",
        float("nan"),
        "review_cards[0].card.stability",
    ),
    "card with a bad state": ("review_cards.0.card.state", 9, "review_cards[0].card.state"),
    "duplicate attempt ids": ("attempts.1.id", "0" * 32, "appears twice"),
    "newer format": ("format_version", 2, "newer than this trainer reads"),
}


@pytest.mark.parametrize("case", list(MALFORMED_EXPORTS), ids=list(MALFORMED_EXPORTS))
def test_a_malformed_import_is_refused_by_name_and_stores_nothing(store: Store, case: str) -> None:
    path, value, message = MALFORMED_EXPORTS[case]
    doc = _set(good_export(), path, value)
    store.import_learner(json.loads(json.dumps(good_export("b" * 32))), now=T0 + timedelta(days=1))
    before = store.list_learners()

    with pytest.raises(LearnerFileError) as err:
        store.import_learner(doc, now=T0 + timedelta(days=1))

    assert message in str(err.value)
    assert store.list_learners() == before
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.attempts)).scalar_one() == 3
        assert conn.execute(select(func.count()).select_from(schema.review_cards)).scalar_one() == 1


def test_every_problem_of_an_import_is_named_at_once(store: Store) -> None:
    doc = _set(
        _set(_set(good_export(), "attempts.0.credit", "high"), "attempts.2.created_at", "soon"),
        "review_cards.0.card_id",
        7,
    )
    with pytest.raises(LearnerFileError) as err:
        store.import_learner(doc, now=T0 + timedelta(days=1))
    assert [p.split(":")[0] for p in err.value.problems] == [
        "attempts[0].credit",
        "attempts[2].created_at",
        "review_cards[0].card_id",
    ]


# -- profiles held by browsers -----------------------------------------------------------------


def test_a_browser_sees_only_the_profiles_its_keys_hold(store: Store) -> None:
    ana_key, ben_key, eve_key, gone_key = new_key(), new_key(), new_key(), new_key()
    ana = store.create_learner("Ana", now=T0, key_hash=key_hash(ana_key))
    ben = store.create_learner("Ben", now=T0 + timedelta(seconds=1), key_hash=key_hash(ben_key))
    eve = store.create_learner("Eve", now=T0, key_hash=key_hash(eve_key))
    held = store.learners_for_keys([key_hash(k) for k in (ben_key, ana_key, gone_key)])
    assert list(held.values()) == [ana, ben]  # oldest first; a key that holds nothing is left out
    assert held[key_hash(ana_key)] == ana
    assert eve not in held.values()
    assert store.learners_for_keys([]) == {}
    assert store.get_learner(ana.id, key_hash=key_hash(ana_key)) == ana
    with pytest.raises(NotFoundError):
        store.get_learner(eve.id, key_hash=key_hash(ana_key))


def test_a_key_can_hold_only_one_profile(store: Store) -> None:
    key = new_key()
    store.create_learner("Ana", now=T0, key_hash=key_hash(key))
    with pytest.raises(ConflictError):
        store.create_learner("Ben", now=T0, key_hash=key_hash(key))
    assert [lr.display_name for lr in store.list_learners()] == ["Ana"]


@pytest.mark.parametrize("action", ["rename", "delete", "export", "transfer"])
def test_a_browser_cannot_act_on_a_profile_it_does_not_hold(store: Store, action: str) -> None:
    ana_key, eve_key = new_key(), new_key()
    ana = store.create_learner("Ana", now=T0, key_hash=key_hash(ana_key))
    store.create_learner("Eve", now=T0, key_hash=key_hash(eve_key))
    record(store, ana.id, 1)
    before = store.export_learner(ana.id)
    calls: dict[str, Callable[[str], object]] = {
        "rename": lambda h: store.rename_learner(ana.id, "Hacked", key_hash=h),
        "delete": lambda h: store.delete_learner(ana.id, key_hash=h),
        "export": lambda h: store.export_learner(ana.id, key_hash=h),
        "transfer": lambda h: store.create_transfer_code(ana.id, now=T0, key_hash=h),
    }
    with pytest.raises(NotFoundError, match="No learner"):
        calls[action](key_hash(eve_key))
    assert store.export_learner(ana.id) == before
    calls[action](key_hash(ana_key))  # the holder may


def test_a_transfer_code_moves_a_profile_to_another_browser_once(store: Store, other_store: Store) -> None:
    laptop, phone, third = new_key(), new_key(), new_key()
    ana = store.create_learner("Ana", now=T0, key_hash=key_hash(laptop))
    code, expires = store.create_transfer_code(ana.id, now=T0, key_hash=key_hash(laptop))
    assert expires == T0 + TRANSFER_CODE_TTL
    with store.engine.connect() as conn:
        stored = conn.execute(select(schema.transfer_codes)).one()
    assert code.secret not in stored.code_hash and stored.lookup == code.lookup  # the secret is hashed

    got = other_store.redeem_transfer_code(
        code.text.lower(), key_hash=key_hash(phone), now=T0 + timedelta(minutes=14)
    )

    assert got == ana
    assert list(store.learners_for_keys([key_hash(phone)]).values()) == [ana]
    assert list(store.learners_for_keys([key_hash(laptop)]).values()) == [ana]  # the laptop keeps it
    assert store.count_learner_keys(ana.id) == 2
    with pytest.raises(RuleError, match="wrong, used or expired"):
        store.redeem_transfer_code(code.text, key_hash=key_hash(third), now=T0 + timedelta(minutes=1))
    assert store.learners_for_keys([key_hash(third)]) == {}


def test_an_expired_transfer_code_is_refused(store: Store) -> None:
    key, phone = new_key(), new_key()
    ana = store.create_learner("Ana", now=T0, key_hash=key_hash(key))
    code, _ = store.create_transfer_code(ana.id, now=T0, key_hash=key_hash(key))
    with pytest.raises(RuleError, match="wrong, used or expired"):
        store.redeem_transfer_code(code.text, key_hash=key_hash(phone), now=T0 + TRANSFER_CODE_TTL)
    assert store.learners_for_keys([key_hash(phone)]) == {}


def test_wrong_secrets_are_counted_and_void_the_code(store: Store) -> None:
    key, phone = new_key(), new_key()
    ana = store.create_learner("Ana", now=T0, key_hash=key_hash(key))
    code, _ = store.create_transfer_code(ana.id, now=T0, key_hash=key_hash(key))
    wrong = TransferCode(code.lookup, "2222" if code.secret != "2222" else "3333")
    for attempt in range(TRANSFER_MAX_ATTEMPTS):
        with pytest.raises(RuleError):
            store.redeem_transfer_code(wrong.text, key_hash=key_hash(phone), now=T0)
        with store.engine.connect() as conn:
            left = conn.execute(select(schema.transfer_codes.c.attempts)).scalars().all()
        assert left == ([attempt + 1] if attempt + 1 < TRANSFER_MAX_ATTEMPTS else [])
    with pytest.raises(RuleError):  # even the right code is void now
        store.redeem_transfer_code(code.text, key_hash=key_hash(phone), now=T0)
    assert store.learners_for_keys([key_hash(phone)]) == {}


def test_a_new_transfer_code_replaces_the_old_and_sweeps_expired_ones(store: Store) -> None:
    k1, k2, phone = new_key(), new_key(), new_key()
    ana = store.create_learner("Ana", now=T0, key_hash=key_hash(k1))
    ben = store.create_learner("Ben", now=T0, key_hash=key_hash(k2))
    old, _ = store.create_transfer_code(ana.id, now=T0, key_hash=key_hash(k1))
    store.create_transfer_code(ben.id, now=T0, key_hash=key_hash(k2))
    later = T0 + TRANSFER_CODE_TTL + timedelta(seconds=1)
    new, _ = store.create_transfer_code(ana.id, now=later, key_hash=key_hash(k1))
    with store.engine.connect() as conn:
        assert conn.execute(select(schema.transfer_codes.c.lookup)).scalars().all() == [new.lookup]
    with pytest.raises(RuleError):
        store.redeem_transfer_code(old.text, key_hash=key_hash(phone), now=later)
    assert store.redeem_transfer_code(new.text, key_hash=key_hash(phone), now=later) == ana


def test_deleting_a_profile_removes_its_keys_and_codes(store: Store) -> None:
    key, phone = new_key(), new_key()
    ana = store.create_learner("Ana", now=T0, key_hash=key_hash(key))
    code, _ = store.create_transfer_code(ana.id, now=T0, key_hash=key_hash(key))
    store.delete_learner(ana.id, key_hash=key_hash(key))
    with store.engine.connect() as conn:
        for table in (schema.learner_keys, schema.transfer_codes):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
    with pytest.raises(RuleError):
        store.redeem_transfer_code(code.text, key_hash=key_hash(phone), now=T0)


def test_an_import_is_held_by_the_browser_that_imported_it(store: Store) -> None:
    key = new_key()
    imported = store.import_learner(good_export(), now=T0 + timedelta(days=1), key_hash=key_hash(key))
    assert list(store.learners_for_keys([key_hash(key)]).values()) == [imported]
    assert len(store.list_attempts(imported.id)) == 3


def test_profiles_made_before_keys_survive_the_migration_unheld(db_url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(db_url)
    with engine.begin() as conn:  # a database as version 2 left it, with one profile
        schema.schema_version.create(conn)
        for version, migration in enumerate(migrations.MIGRATIONS[:2], start=1):
            migration(conn)
            conn.execute(schema.schema_version.insert().values(version=version, applied_at=T0))
        conn.execute(schema.learners.insert().values(id="old", display_name="Old", created_at=T0))
    engine.dispose()
    with Store(db_url) as store:
        assert store.schema_version() == migrations.LATEST_VERSION
        assert [lr.id for lr in store.list_learners()] == ["old"]
        assert store.count_learner_keys("old") == 0
        code, _ = store.create_transfer_code("old", now=T0)  # the operator's way to hand it to a browser
        key = new_key()
        assert store.redeem_transfer_code(code.text, key_hash=key_hash(key), now=T0).id == "old"


def test_aware_datetimes_round_trip_in_utc(store: Store) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    local = datetime(2025, 6, 30, 23, 59, 58, 999999, tzinfo=india)
    ana = store.create_learner("Ana", now=local)
    got = store.get_learner(ana.id).created_at
    assert got == local
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got.isoformat() == "2025-06-30T18:29:58.999999+00:00"
    session = store.create_session(title="t", host_key="k", question_ids=["q"], now=local)
    created = store.get_session(session.id).created_at
    assert created is not None and created == local and created.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.create_learner("Ana", now=datetime(2025, 1, 1))
    ana = store.create_learner("Ana", now=T0)
    with pytest.raises(ValueError):
        store.list_attempts(ana.id, since=datetime(2025, 1, 1))


# -- live sessions and players -----------------------------------------------------------------


def test_sessions_get_a_no_look_alike_join_code_and_are_found_by_it(store: Store) -> None:
    session = store.create_session(
        title="Knee", host_key="hk", question_ids=QUESTIONS, now=T0, rng=random.Random(11)
    )
    assert len(session.join_code) == 6 and set(session.join_code) <= set(rules.JOIN_CODE_ALPHABET)
    typed = f" {session.join_code[:3].lower()} {session.join_code[3:].lower()} "
    found = store.get_session_by_code(typed)
    assert found == session
    assert found.state is Phase.LOBBY and found.question_ids == QUESTIONS and found.version == 1
    assert rules.check_host_key("hk", found.host_key_hash) and not rules.check_host_key(
        "x", found.host_key_hash
    )
    assert "hk" not in repr(found)


def test_join_code_collisions_are_retried(store: Store) -> None:
    first = store.create_session(
        title="a", host_key="k", question_ids=QUESTIONS, now=T0, rng=random.Random(5)
    )
    second = store.create_session(
        title="b", host_key="k", question_ids=QUESTIONS, now=T0, rng=random.Random(5)
    )
    assert first.join_code != second.join_code


def test_duplicate_nicknames_are_refused_case_insensitively(store: Store) -> None:
    session = store.create_session(title="t", host_key="k", question_ids=QUESTIONS, now=T0)
    other = store.create_session(title="u", host_key="k", question_ids=QUESTIONS, now=T0)
    store.add_player(session.id, "Ana", now=T0)
    for clash in ("ana", " ANA ", "ＡＮＡ"):
        with pytest.raises(ConflictError, match="already taken"):
            store.add_player(session.id, clash, now=T0)
    assert store.add_player(other.id, "ana", now=T0).nickname == "ana"
    assert [p.nickname for p in store.list_players(session.id)] == ["Ana"]


def test_hostile_nicknames_are_stored_verbatim_or_refused(store: Store) -> None:
    session = store.create_session(title="t", host_key="k", question_ids=QUESTIONS, now=T0)
    for name in ("<script>x</script>", "[x](javascript:alert(1))", "🦴🧠\u200d", "=HYPERLINK(1)"):
        assert store.add_player(session.id, name, now=T0).nickname == rules.clean_nickname(name)
    with pytest.raises(RuleError, match="at most 24"):
        store.add_player(session.id, "A" * 10_000, now=T0)
    assert len(store.list_players(session.id)) == 4


def test_a_player_rejoins_with_their_token(store: Store) -> None:
    session = store.create_session(title="t", host_key="k", question_ids=QUESTIONS, now=T0)
    ana = store.add_player(session.id, "Ana", now=T0)
    assert len(ana.token) >= 32 and ana.token not in repr(ana)
    assert store.get_player_by_token(ana.token) == ana
    assert store.get_player(ana.id) == ana


def test_rejoin_by_token_reads_the_player_and_their_class_in_one_statement(store: Store) -> None:
    one = store.create_session(title="one", host_key="k", question_ids=QUESTIONS, now=T0)
    two = store.create_session(title="two", host_key="k2", question_ids=QUESTIONS[:1], now=T0)
    ana = store.add_player(one.id, "Ana", now=T0)
    bo = store.add_player(two.id, "Bo", now=T0)
    opened = store.update_session_state(one.id, one.version, now=T0, state="open")
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        assert store.rejoin_by_token(ana.token) == (ana, opened)  # the fresh phase, not a copy
        assert len(statements) == 1
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert store.rejoin_by_token(bo.token) == (bo, two)
    # A removed player's link is dead at once; the other class's player is untouched.
    store.remove_player(one.id, ana.id)
    with pytest.raises(NotFoundError):
        store.rejoin_by_token(ana.token)
    assert store.rejoin_by_token(bo.token)[0] == bo


def test_players_cannot_join_a_finished_session(store: Store) -> None:
    session = store.create_session(title="t", host_key="k", question_ids=QUESTIONS, now=T0)
    store.save_rules_state(session.id, session.version, rules.finish(session.rules_state()), now=T0)
    with pytest.raises(RuleError, match="finished"):
        store.add_player(session.id, "Late", now=T0)


def test_optimistic_concurrency_refuses_a_stale_update(store: Store, other_store: Store) -> None:
    session = store.create_session(title="t", host_key="k", question_ids=QUESTIONS, now=T0)
    opened = rules.open_question(session.rules_state(), now=T0, time_limit_s=20)
    saved = store.save_rules_state(session.id, session.version, opened, now=T0)
    assert saved.version == session.version + 1 and saved.state is Phase.OPEN
    assert saved.question_closes_at == T0 + timedelta(seconds=20)
    # The second host tab still holds the old version.
    with pytest.raises(ConflictError, match="changed meanwhile"):
        other_store.update_session_state(session.id, session.version, now=T0, state="finished")
    assert store.get_session(session.id) == saved
    with pytest.raises(ValueError, match="Unknown session fields"):
        store.update_session_state(session.id, saved.version, now=T0, colour="red")


# -- answers -----------------------------------------------------------------------------------


def test_a_second_submission_is_a_no_op_that_says_so(store: Store) -> None:
    session = open_session(store)
    ana = store.add_player(session.id, "Ana", now=T0)
    first, created = store.submit_answer(
        session_id=session.id,
        question_index=0,
        player_id=ana.id,
        pins=[[10, 20]],
        credit=1.0,
        distance_cm=0.4,
        result={"note": "on target"},
        now=T0 + timedelta(seconds=5),
    )
    assert created
    assert first.points == 1000 + round(500 * 15 / 20)
    assert first.question_id == QUESTIONS[0]
    assert first.result == {"note": "on target"}
    again, created_again = store.submit_answer(
        session_id=session.id,
        question_index=0,
        player_id=ana.id,
        pins=[[99, 99]],
        credit=0.0,
        now=T0 + timedelta(seconds=6),
    )
    assert not created_again and again == first
    assert store.count_answers(session.id, 0) == 1


def test_concurrent_double_submission_stores_exactly_one_row(store: Store, other_store: Store) -> None:
    session = open_session(store)
    players = [store.add_player(session.id, f"P{i}", now=T0) for i in range(4)]
    outcomes: list[tuple[str, bool]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)
    lock = threading.Lock()

    def submit(s: Store, player_id: str, credit: float) -> None:
        try:
            barrier.wait(timeout=10)
            answer, created = s.submit_answer(
                session_id=session.id,
                question_index=0,
                player_id=player_id,
                pins=[[credit]],
                credit=credit,
                now=T0 + timedelta(seconds=1),
            )
            with lock:
                outcomes.append((answer.player_id, created))
        except BaseException as exc:  # surfaced below; a thread must not die silently
            errors.append(exc)

    threads = [
        threading.Thread(target=submit, args=(s, p.id, credit))
        for p in players
        for s, credit in ((store, 0.25), (other_store, 0.75))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert store.count_answers(session.id, 0) == len(players)
    for p in players:
        assert sorted(created for pid, created in outcomes if pid == p.id) == [False, True]
    stored = {a.player_id: a.pins for a in store.list_answers(session.id, 0)}
    assert len(stored) == len(players)


def test_late_answers_are_refused_by_the_store(store: Store) -> None:
    session = open_session(store, limit_s=20)
    ana = store.add_player(session.id, "Ana", now=T0)
    with pytest.raises(RuleError, match="Time is up"):
        store.submit_answer(
            session_id=session.id,
            question_index=0,
            player_id=ana.id,
            pins=[],
            credit=1,
            now=T0 + timedelta(seconds=20),
        )
    with pytest.raises(RuleError, match="on screen"):
        store.submit_answer(
            session_id=session.id, question_index=1, player_id=ana.id, pins=[], credit=1, now=T0
        )
    assert store.count_answers(session.id, 0) == 0


def test_a_resubmission_after_the_close_returns_the_stored_answer(store: Store) -> None:
    session = open_session(store)
    ana = store.add_player(session.id, "Ana", now=T0)
    first, _ = store.submit_answer(
        session_id=session.id, question_index=0, player_id=ana.id, pins=[1], credit=0.5, now=T0
    )
    closed = rules.close_question(session.rules_state(), now=T0 + timedelta(seconds=3))
    store.save_rules_state(session.id, session.version, closed, now=T0 + timedelta(seconds=3))
    again, created = store.submit_answer(
        session_id=session.id,
        question_index=0,
        player_id=ana.id,
        pins=[2],
        credit=1,
        now=T0 + timedelta(minutes=1),
    )
    assert (again, created) == (first, False)


def test_answers_survive_closing_and_reopening_the_store(db_url: str) -> None:
    first = Store(db_url)
    session = open_session(first)
    ana = first.add_player(session.id, "Ana", now=T0)
    answer, _ = first.submit_answer(
        session_id=session.id, question_index=0, player_id=ana.id, pins=[[1, 2]], credit=0.9, now=T0
    )
    first.close()

    restarted = Store(db_url)
    try:
        resumed = restarted.get_session_by_code(session.join_code)
        assert resumed.state is Phase.OPEN and resumed.current_index == 0
        assert restarted.get_player_by_token(ana.token) == ana
        assert restarted.list_answers(session.id) == [answer]
    finally:
        restarted.close()


def test_two_stores_on_one_database_see_each_others_writes_at_once(store: Store, other_store: Store) -> None:
    # Host on "server A", players on "server B".
    session = open_session(store)
    ana = other_store.add_player(session.id, "Ana", now=T0)
    assert [p.nickname for p in store.list_players(session.id)] == ["Ana"]
    other_store.submit_answer(
        session_id=session.id, question_index=0, player_id=ana.id, pins=[], credit=1, now=T0
    )
    assert store.count_answers(session.id, 0) == 1
    host_view, count = store.get_session_with_count(session.id)
    assert count == 1 and host_view.state is Phase.OPEN
    closed = rules.close_question(host_view.rules_state(), now=T0 + timedelta(seconds=2))
    store.save_rules_state(session.id, host_view.version, closed, now=T0 + timedelta(seconds=2))
    assert other_store.get_session(session.id).state is Phase.CLOSED


def test_leaderboard_ranks_by_total_points_and_lists_everyone(store: Store) -> None:
    session = open_session(store, speed_bonus=False)
    names = ["Ana", "Ben", "Cy", "Di"]
    ps = {n: store.add_player(session.id, n, now=T0 + timedelta(seconds=i)) for i, n in enumerate(names)}
    for name, credit in (("Ana", 0.5), ("Ben", 1.0), ("Cy", 0.5)):
        store.submit_answer(
            session_id=session.id, question_index=0, player_id=ps[name].id, pins=[], credit=credit, now=T0
        )
    board = store.leaderboard(session.id)
    assert [(e.rank, e.nickname, e.points, e.answered) for e in board] == [
        (1, "Ben", 1000, 1),
        (2, "Ana", 500, 1),
        (2, "Cy", 500, 1),
        (4, "Di", 0, 0),
    ]
    # Each phone's own rank, computed in the database, agrees with the board (ties included).
    for e in board:
        standing = store.player_standing(session.id, e.player_id)
        assert (standing.rank, standing.players, standing.points) == (e.rank, len(names), e.points)
    other = open_session(store)
    stranger = store.add_player(other.id, "Eve", now=T0)
    with pytest.raises(NotFoundError):
        store.player_standing(session.id, stranger.id)


def test_the_session_clock_agrees_with_the_full_session(store: Store) -> None:
    session = open_session(store, limit_s=30)
    clock = store.session_clock(session.id)
    full = store.get_session(session.id)
    assert (clock.id, clock.state, clock.current_index, clock.question_closes_at) == (
        full.id,
        full.state,
        full.current_index,
        full.question_closes_at,
    )
    assert clock.question_closes_at == T0 + timedelta(seconds=30)


def test_list_answers_filters_by_question_and_exports_csv_rows(store: Store) -> None:
    session = open_session(store, speed_bonus=False)
    ana = store.add_player(session.id, "=cmd|' /C calc'!A0", now=T0)
    store.submit_answer(
        session_id=session.id,
        question_index=0,
        player_id=ana.id,
        pins=[[1, 2]],
        credit=0.25,
        distance_cm=2.1,
        now=T0,
    )
    opened = session
    closed = rules.close_question(opened.rules_state(), now=T0 + timedelta(seconds=1))
    s2 = store.save_rules_state(session.id, opened.version, closed, now=T0 + timedelta(seconds=1))
    s3 = store.save_rules_state(
        session.id, s2.version, rules.reveal(s2.rules_state()), now=T0 + timedelta(seconds=1)
    )
    nxt = rules.open_question(s3.rules_state(), now=T0 + timedelta(seconds=2), time_limit_s=20)
    store.save_rules_state(session.id, s3.version, nxt, now=T0 + timedelta(seconds=2))
    store.submit_answer(
        session_id=session.id,
        question_index=1,
        player_id=ana.id,
        pins=[],
        credit=1,
        now=T0 + timedelta(seconds=3),
    )

    assert [a.question_index for a in store.list_answers(session.id)] == [0, 1]
    assert [a.question_id for a in store.list_answers(session.id, 1)] == [QUESTIONS[1]]
    assert store.list_answers(session.id, 2) == []
    rows = store.export_answer_rows(session.id)
    assert len(rows) == 2 and list(rows[0]) == list(ANSWER_CSV_COLUMNS)
    assert rows[0]["nickname"] == "'=cmd|' /C calc'!A0"  # spreadsheet formula neutralised
    assert rows[0]["question_number"] == 1 and rows[0]["distance_cm"] == 2.1 and rows[0]["points"] == 250
    assert json.loads(str(rows[0]["pins_json"])) == [[1, 2]]
    assert store.export_answer_rows(session.id, csv_safe=False)[0]["nickname"] == "=cmd|' /C calc'!A0"


UNKNOWN = "0" * 32


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.get_learner(UNKNOWN),
        lambda s: s.rename_learner(UNKNOWN, "x"),
        lambda s: s.delete_learner(UNKNOWN),
        lambda s: s.export_learner(UNKNOWN),
        lambda s: s.create_transfer_code(UNKNOWN, now=T0),
        lambda s: s.count_learner_keys(UNKNOWN),
        lambda s: s.list_attempts(UNKNOWN),
        lambda s: record(s, UNKNOWN, 0),
        lambda s: s.get_review_card(UNKNOWN, "q"),
        lambda s: s.upsert_review_card(UNKNOWN, "q", {}, due=T0, now=T0),
        lambda s: s.list_due(UNKNOWN, now=T0),
        lambda s: s.get_session(UNKNOWN),
        lambda s: s.get_session_by_code("ABCDEF"),
        lambda s: s.get_session_with_count(UNKNOWN),
        lambda s: s.update_session_state(UNKNOWN, 1, now=T0, state="open"),
        lambda s: s.add_player(UNKNOWN, "Ana", now=T0),
        lambda s: s.get_player(UNKNOWN),
        lambda s: s.get_player_by_token("nope"),
        lambda s: s.rejoin_by_token("nope"),
        lambda s: s.list_players(UNKNOWN),
        lambda s: s.count_answers(UNKNOWN, 0),
        lambda s: s.list_answers(UNKNOWN),
        lambda s: s.leaderboard(UNKNOWN),
        lambda s: s.player_standing(UNKNOWN, UNKNOWN),
        lambda s: s.session_clock(UNKNOWN),
        lambda s: s.export_answer_rows(UNKNOWN),
        lambda s: s.submit_answer(
            session_id=UNKNOWN, question_index=0, player_id=UNKNOWN, pins=[], credit=1, now=T0
        ),
    ],
)
def test_unknown_ids_raise_not_found(store: Store, call: Callable[[Store], object]) -> None:
    with pytest.raises(NotFoundError):
        call(store)


def test_a_player_of_another_session_cannot_answer(store: Store) -> None:
    session = open_session(store)
    other = store.create_session(title="o", host_key="k", question_ids=QUESTIONS, now=T0)
    stranger = store.add_player(other.id, "Eve", now=T0)
    with pytest.raises(NotFoundError, match="in this class"):
        store.submit_answer(
            session_id=session.id, question_index=0, player_id=stranger.id, pins=[], credit=1, now=T0
        )


# -- SQLite specifics and configuration --------------------------------------------------------


def test_sqlite_runs_in_wal_mode_with_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    with open_store(data_dir=tmp_path) as s:
        with s.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() == 10_000
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    assert (tmp_path / "trainer.sqlite3").exists()


def test_open_store_uses_the_data_dir_and_database_url_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRAINER_DATABASE_URL", raising=False)
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "d"))
    with open_store() as s:
        assert s.url.endswith(str(tmp_path / "d" / "trainer.sqlite3"))
    monkeypatch.setenv("TRAINER_DATABASE_URL", f"sqlite:///{tmp_path / 'other.sqlite3'}")
    with open_store() as s:
        assert s.url.endswith("other.sqlite3")


def test_in_memory_sqlite_is_refused_because_processes_could_not_share_it() -> None:
    with pytest.raises(StoreError, match="in-memory"):
        Store("sqlite://")


# -- issue 11: look-alike nicknames, the player cap, host-key throttling, a failing database ---


def test_look_alike_and_invisible_variants_of_a_nickname_are_refused(store: Store) -> None:
    session = store.create_session(title="t", host_key="k", question_ids=QUESTIONS, now=T0)
    other = store.create_session(title="u", host_key="k", question_ids=QUESTIONS, now=T0)
    store.add_player(session.id, "Alice", now=T0)
    for clash in ("\u0410lice", "AIice", "ALICE", "Alice\u3164", "Al\u200bice", "\u0410LICE"):
        with pytest.raises(ConflictError, match="looks the same"):
            store.add_player(session.id, clash, now=T0)
    # A different name is fine, and so is the look-alike in another class.
    assert store.add_player(session.id, "Alicia", now=T0).nickname == "Alicia"
    assert store.add_player(other.id, "\u0410lice", now=T0).nickname == "\u0410lice"
    assert [p.nickname for p in store.list_players(session.id)] == ["Alice", "Alicia"]


@pytest.mark.parametrize("name", ["\u3164", "\u3164\u3164 \u2800", "\u200b\u200d\ufe0f", "\U000e0041\u115f"])
def test_invisible_only_nicknames_are_refused(store: Store, name: str) -> None:
    session = store.create_session(title="t", host_key="k", question_ids=QUESTIONS, now=T0)
    with pytest.raises(RuleError, match="invisible"):
        store.add_player(session.id, name, now=T0)
    assert store.list_players(session.id) == []


def test_the_player_cap_is_checked_in_the_insert(store: Store) -> None:
    session = store.create_session(
        title="t", host_key="k", question_ids=QUESTIONS, now=T0, settings=rules.LiveSettings(max_players=3)
    )
    for i in range(3):
        store.add_player(session.id, f"P{i}", now=T0)
    with pytest.raises(RuleError, match=r"full \(3 players\)"):
        store.add_player(session.id, "P3", now=T0)
    assert len(store.list_players(session.id)) == 3


def test_a_class_stored_without_a_cap_gets_the_default_cap(store: Store) -> None:
    session = store.create_session(
        title="t", host_key="k", question_ids=QUESTIONS, now=T0, settings={"time_limit_s": 20.0}
    )
    assert session.live_settings().max_players == rules.DEFAULT_MAX_PLAYERS == 300


def test_concurrent_joins_from_several_processes_cannot_pass_the_cap(db_url: str, store: Store) -> None:
    cap, tries = 5, 16
    session = store.create_session(
        title="t", host_key="k", question_ids=QUESTIONS, now=T0, settings=rules.LiveSettings(max_players=cap)
    )
    stores = [Store(db_url) for _ in range(4)]  # four "server processes"
    barrier = threading.Barrier(tries)
    joined: list[str] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def join(s: Store, name: str) -> None:
        try:
            barrier.wait(timeout=10)
            s.add_player(session.id, name, now=T0)
            with lock:
                joined.append(name)
        except RuleError as exc:
            with lock:
                refused.append(str(exc))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=join, args=(stores[i % 4], f"Player {i}")) for i in range(tries)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        for s in stores:
            s.close()
    assert errors == []
    assert len(joined) == cap and len(refused) == tries - cap
    assert all("full" in r for r in refused)
    assert sorted(p.nickname for p in store.list_players(session.id)) == sorted(joined)


def test_host_key_failures_are_shared_by_every_process(store: Store, other_store: Store) -> None:
    from trainer.rules import throttle

    scopes = [("host-key:client:10.0.0.7", throttle.CLIENT_RULE), ("host-key:all", throttle.GLOBAL_RULE)]
    looked: list[int] = []

    def wrong() -> bool:
        looked.append(1)
        return False

    for _ in range(5):
        assert store.try_host_key(scopes, T0, wrong) == throttle.Verdict(
            True, False, 0.0, (len(looked), len(looked))
        )
    sixth = other_store.try_host_key(scopes, T0, wrong)
    assert sixth.checked and not sixth.right and sixth.retry_after_s == 1.0
    # Inside the wait, from either process, even the right key is not looked at.
    refused = store.try_host_key(scopes, T0 + timedelta(seconds=0.5), lambda: True)
    assert not refused.checked and refused.retry_after_s == pytest.approx(0.5)
    assert len(looked) == 6
    # After the wait the right key works and clears this client's count, not the global one.
    ok = other_store.try_host_key(scopes, T0 + timedelta(seconds=1), lambda: True)
    assert ok.checked and ok.right
    assert store.throttle_failures("host-key:client:10.0.0.7") == throttle.Failures()
    assert store.throttle_failures("host-key:all").count == 6


def test_concurrent_wrong_keys_are_counted_one_by_one(db_url: str, store: Store) -> None:
    from trainer.rules import throttle

    scopes = [("host-key:client:10.0.0.8", throttle.CLIENT_RULE), ("host-key:all", throttle.GLOBAL_RULE)]
    stores = [Store(db_url) for _ in range(3)]
    barrier = threading.Barrier(10)
    verdicts: list[throttle.Verdict] = []
    errors: list[BaseException] = []

    def guess(s: Store) -> None:
        try:
            barrier.wait(timeout=10)
            verdicts.append(s.try_host_key(scopes, T0, lambda: False))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=guess, args=(stores[i % 3],)) for i in range(10)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        for s in stores:
            s.close()
    assert errors == []
    # Five free tries and a sixth that starts the wait were looked at; the other four were not.
    assert sum(v.checked for v in verdicts) == 6
    assert store.throttle_failures("host-key:client:10.0.0.8").count == 6


def test_a_read_only_database_fails_with_a_plain_message(db_url: str, store: Store) -> None:
    from tests.readonly_db import read_only
    from trainer.errors import StoreUnavailableError

    session = store.create_session(title="t", host_key="k", question_ids=QUESTIONS, now=T0)
    store.close()
    with read_only(db_url):
        s = Store(db_url)
        try:
            assert s.get_session(session.id).join_code == session.join_code  # reads still work
            with pytest.raises(StoreUnavailableError) as caught:
                s.add_player(session.id, "Ana", now=T0)
        finally:
            s.close()
    message = str(caught.value)
    assert "nothing was saved" in message
    for leak in ("INSERT", "players", "token", "[SQL", "parameters", session.id):
        assert leak not in message
    assert caught.value.__cause__ is not None  # the driver's detail is kept for the server log


def _version_2_database(url: str) -> None:
    """A database as version 2 of the trainer left it (no look-alike keys, no throttle table)."""
    from sqlalchemy import create_engine, insert

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            schema.schema_version.create(conn)
            for version in (1, 2):
                migrations.MIGRATIONS[version - 1](conn)
                conn.execute(insert(schema.schema_version).values(version=version, applied_at=T0))
    finally:
        engine.dispose()


def test_upgrading_a_version_2_database_recomputes_the_nickname_keys(db_url: str) -> None:
    import unicodedata

    from sqlalchemy import create_engine, insert

    _version_2_database(db_url)
    engine = create_engine(db_url)
    names = ["Alice", "\u0410lice", "Bob"]  # the second one passed version 2's rule
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(schema.live_sessions).values(
                    id="s1",
                    join_code="ABCDEF",
                    host_key_hash=rules.hash_host_key("k"),
                    title="t",
                    settings_json="{}",
                    question_ids_json=json.dumps(list(QUESTIONS)),
                    state="lobby",
                    current_index=-1,
                    created_at=T0,
                    updated_at=T0,
                    version=1,
                )
            )
            for i, name in enumerate(names):
                conn.execute(
                    text(
                        "INSERT INTO players (id, session_id, nickname, nickname_key, token, joined_at) "
                        "VALUES (:id, 's1', :nick, :key, :token, :at)"
                    ),
                    {
                        "id": f"p{i}",
                        "nick": name,
                        "key": unicodedata.normalize("NFKC", name).casefold(),
                        "token": f"t{i}",
                        "at": (T0 + timedelta(seconds=i)).replace(tzinfo=None),
                    },
                )
    finally:
        engine.dispose()
    s = Store(db_url)
    try:
        assert s.schema_version() == migrations.LATEST_VERSION
        assert [p.nickname for p in s.list_players("s1")] == names  # nobody is dropped
        for clash in ("ALICE", "AIice", "B\u043eb"):
            with pytest.raises(ConflictError):
                s.add_player("s1", clash, now=T0)
        assert s.add_player("s1", "Carol", now=T0).nickname == "Carol"
    finally:
        s.close()
