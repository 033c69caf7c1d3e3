"""Per-process store and the learner profile picker (sidebar): the profiles this browser holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import streamlit as st

from trainer.errors import TrainerError
from trainer.rules.profiles import (
    TRANSFER_MAX_TRIES_PER_SESSION,
    BrowserProfiles,
    StorageOp,
    apply_ops,
    key_hash,
    new_key,
    queue_op,
    read_browser_report,
    unconfirmed,
    unique_labels,
)
from trainer.safetext import literal_markdown
from trainer.settings import location_key
from trainer.store import Learner, Store, open_store
from trainer.store.store import default_url
from trainer.ui.components.profile_keys import profile_keys

ANON = "__anonymous__"


@st.cache_resource(show_spinner=False)
def _store_for(location: str) -> Store:
    return open_store(default_url())


def get_store() -> Store:
    """One store per server process and database (engines are thread-safe; sessions share it).

    Keyed by the raw settings (:func:`trainer.settings.location_key`), so the polling pages do
    not resolve the data folder on every rerun.
    """
    return _store_for(location_key())


def now_utc() -> datetime:
    return datetime.now(UTC)


# -- profiles ------------------------------------------------------------------------------------
#
# The selection lives in one place, ``ss["profile_current"]`` (a learner id or ANON), and every
# change (picking, creating, adding with a transfer code, importing, deleting) happens in a widget
# callback, which runs before the page script, so the page that follows already shows and uses the
# new choice. The picker only *shows* it: when the server changes the selection, the picker gets a
# new widget key (``profile_select_<epoch>``) and starts from the new value. Keeping the key and
# writing the new value into it is not enough: the browser may still send the old value with the
# next rerun (it did, whenever a rerun overtook the update), and the picker then switched back.
# That was the bug behind "a new profile is created but the answers go to the old one".
#
# Which profiles this browser holds comes from its storage (``profile_keys`` component), plus the
# changes this tab asked for and the browser has not confirmed yet (``profile_ops``).

_CURRENT = "profile_current"
_EPOCH = "profile_epoch"
_OPS = "profile_ops"
_BROWSER = "profile_browser"
_RESTORED = "profile_restored"
_FLASH = "profile_flash"
_TRIES = "profile_code_tries"


@dataclass(frozen=True)
class Profile:
    """The profile this page shows, with the key that proves this browser holds it.

    The key stays in server memory (session state); pages pass :attr:`key_hash` to the store,
    which checks it again inside each write.
    """

    learner: Learner
    key: str = field(repr=False)

    @property
    def key_hash(self) -> str:
        return key_hash(self.key)


def _browser() -> BrowserProfiles:
    """What this tab believes the browser holds: its last report plus the unconfirmed changes."""
    ss = st.session_state
    reported = ss.get(_BROWSER) or BrowserProfiles()
    return apply_ops(reported, ss.get(_OPS, []))


def _queue(*ops: StorageOp) -> None:
    ss = st.session_state
    queued = list(ss.get(_OPS, []))
    for op in ops:
        queued = queue_op(queued, op)
    ss[_OPS] = queued


def _select(learner_id: str) -> None:
    """Make ``learner_id`` (or ANON) the page's profile; only from callbacks or before the picker."""
    ss = st.session_state
    ss[_CURRENT] = learner_id
    ss[_EPOCH] = ss.get(_EPOCH, 0) + 1
    ss[_RESTORED] = True


def hold_profile(key: str, learner_id: str) -> None:
    """This browser now holds the profile with ``key``: store the key and select the profile."""
    _queue({"add": key}, {"current": key})
    _select(learner_id)


def drop_profile(key: str) -> None:
    """This browser no longer holds ``key`` (the profile was deleted): forget it, study without one."""
    _queue({"remove": key}, {"current": ""})
    _select(ANON)


def plain(text: str) -> str:
    """``text`` shown literally in Streamlit markdown (:func:`trainer.safetext.literal_markdown`)."""
    return literal_markdown(text)


def flash(kind: str, text: str) -> None:
    """A message for the next run (callbacks cannot draw); ``text`` is markdown, so pass user
    text through :func:`plain`."""
    st.session_state[_FLASH] = (kind, text)


def picker_key() -> str:
    """The sidebar picker's widget key in this run (it changes whenever the server selects)."""
    return f"profile_select_{st.session_state.get(_EPOCH, 0)}"


def _on_pick() -> None:
    ss = st.session_state
    choice = ss.get(picker_key(), ANON)
    ss[_CURRENT] = choice
    ss[_RESTORED] = True
    held = ss.get("profile_held_keys", {})
    _queue({"current": held.get(choice, "")})


def _on_create() -> None:
    ss = st.session_state
    key = new_key()
    try:
        learner = get_store().create_learner(
            ss.get("profile_new_name", "").strip() or "Learner", now=now_utc(), key_hash=key_hash(key)
        )
    except TrainerError as exc:
        flash("error", plain(str(exc)))
        return
    ss["profile_new_name"] = ""
    hold_profile(key, learner.id)
    flash(
        "success", f"Profile {plain(learner.display_name)} created and selected. It is kept in this browser."
    )


def _on_redeem() -> None:
    ss = st.session_state
    tries = ss.get(_TRIES, 0)
    if tries >= TRANSFER_MAX_TRIES_PER_SESSION:
        return
    key = new_key()
    try:
        learner = get_store().redeem_transfer_code(
            ss.get("profile_code", ""), key_hash=key_hash(key), now=now_utc()
        )
    except TrainerError as exc:
        ss[_TRIES] = tries + 1
        flash("error", plain(str(exc)))
        return
    ss["profile_code"] = ""
    hold_profile(key, learner.id)
    flash("success", f"Profile {plain(learner.display_name)} is now in this browser too.")


def current_profile() -> Profile | None:
    """The profile the page shows and stores answers under (None: studying without one).

    Draws the sidebar's profile section; call it once per page, before anything that uses it.
    """
    store = get_store()
    ss = st.session_state
    if "learner" in st.query_params:  # old links carried the profile id; it is no longer used
        del st.query_params["learner"]
    with st.sidebar:
        before = ss.get(_BROWSER)
        if before is not None:
            ss[_OPS] = unconfirmed(ss.get(_OPS, []), before)
        report = profile_keys("profile_keys", ops=list(ss.get(_OPS, [])), ask=before is None)
        reported = read_browser_report(report) if report is not None else None
        if reported is not None:
            ss[_BROWSER] = reported
            ss[_OPS] = unconfirmed(ss.get(_OPS, []), reported)
        st.markdown("**Your profile**")
        browser = _browser()
        hashes = {key_hash(k): k for k in browser.keys}
        held: dict[str, tuple[str, Learner]] = {}
        for h, learner in store.learners_for_keys(list(hashes)).items():
            held.setdefault(learner.id, (hashes[h], learner))
        ss["profile_held_keys"] = {lid: k for lid, (k, _) in held.items()}
        if not ss.get(_RESTORED) and ss.get(_BROWSER) is not None:
            # First report of this visit: open the profile this browser used last, if it holds it.
            _select(next((lid for lid, (k, _) in held.items() if k == browser.current), ANON))
        if ss.get(_CURRENT, ANON) not in held and ss.get(_CURRENT, ANON) != ANON:
            _select(ANON)  # deleted on another device, or this browser forgot it
        current = ss.get(_CURRENT, ANON)
        options = [ANON, *held]
        labels = dict(
            zip(
                options,
                unique_labels(["Study without a profile", *(lr.display_name for _, lr in held.values())]),
                strict=True,
            )
        )
        st.selectbox(
            "Profile",
            options,
            index=options.index(current),
            key=picker_key(),
            on_change=_on_pick,
            format_func=lambda i: labels.get(i, ""),
            help="Profiles have no password: each is kept by the browser that made it, and only that "
            "browser sees it. To use one on another device, make a transfer code on the Progress page.",
        )
        kind, text = ss.pop(_FLASH, (None, ""))
        if kind == "error":
            st.error(text)
        elif kind == "success":
            st.toast(text, icon=":material/check_circle:")  # outlives the rerun the browser's report causes
        with st.popover("New profile", width="stretch"):
            st.text_input("Display name", max_chars=40, key="profile_new_name")
            st.button("Create profile", key="profile_create", on_click=_on_create)
        with st.popover("Profile from another device", width="stretch"):
            st.caption(
                "On the device that has your profile, open Progress → *Use this profile on another "
                "device* and type the code it shows here."
            )
            st.text_input("Transfer code", max_chars=20, key="profile_code", placeholder="ABCD-EFGH")
            spent = ss.get(_TRIES, 0) >= TRANSFER_MAX_TRIES_PER_SESSION
            st.button("Add profile", key="profile_redeem", on_click=_on_redeem, disabled=spent)
            if spent:
                st.caption("Too many wrong codes in this tab. Make a new code and open a new tab.")
        if current == ANON:
            st.caption("Without a profile, answers are kept only until you close this tab.")
        elif ss.get(_BROWSER) is not None and not ss[_BROWSER].stored:
            st.caption(
                "This browser does not keep site data, so it forgets the profile when the tab closes. "
                "Make a transfer code on the Progress page to keep it on another device."
            )
    if current == ANON:
        return None
    key, learner = held[current]
    return Profile(learner, key)


def profile_sidebar() -> str | None:
    """The sidebar's profile section; returns the learner id the page stores answers under, or None."""
    profile = current_profile()
    return None if profile is None else profile.learner.id
