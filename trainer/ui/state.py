"""Per-process store and the learner profile picker (sidebar)."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from trainer.errors import TrainerError
from trainer.settings import location_key
from trainer.store import Store, open_store
from trainer.store.store import default_url

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


def profile_sidebar() -> str | None:
    """Pick, create or skip a local profile; returns the learner id or None (anonymous)."""
    store = get_store()
    ss = st.session_state
    with st.sidebar:
        st.markdown("**Your profile**")
        learners = store.list_learners()
        options = [ANON, *(lr.id for lr in learners)]
        names = {lr.id: lr.display_name for lr in learners}
        # Remember the choice across reloads through the URL; on a personal machine with a
        # single profile, use it without asking.
        default = st.query_params.get("learner") or (learners[0].id if len(learners) == 1 else ANON)
        current = ss.get("learner_id", default)
        if current not in options:
            current = ANON
        choice = st.selectbox(
            "Profile", options, index=options.index(current), key="profile_select",
            format_func=lambda i: "Study without a profile" if i == ANON else names.get(i, i),
            help="Profiles live on this machine only: a display name, no password.",
        )
        ss["learner_id"] = choice
        if choice != ANON and st.query_params.get("learner") != choice:
            st.query_params["learner"] = choice
        elif choice == ANON and "learner" in st.query_params:
            del st.query_params["learner"]
        with st.popover("New profile", width="stretch"):
            name = st.text_input("Display name", max_chars=40, key="profile_new_name")
            if st.button("Create profile", key="profile_create"):
                try:
                    learner = store.create_learner(name.strip() or "Learner", now=now_utc())
                except TrainerError as exc:
                    st.error(str(exc))
                else:
                    ss["learner_id"] = learner.id
                    ss.pop("profile_select", None)
                    st.rerun()
        if choice == ANON:
            st.caption("Without a profile, answers are kept only until you close this tab.")
    return None if choice == ANON else choice
