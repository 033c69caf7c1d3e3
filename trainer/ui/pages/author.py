"""Author: write questions by clicking targets on a view, keep them in banks, import and export.

Banks are YAML files in ``TRAINER_AUTHOR_DIR`` (default ``<data dir>/banks``); Practice and
live classes read them alongside the shipped banks. Every check is the validator's own, so
problems read exactly like ``python -m trainer validate``. Layout only: the decisions are in
:mod:`trainer.authoring.page`.
"""

from __future__ import annotations

import hashlib
from typing import Any, get_args

import streamlit as st

from trainer.atlas.models import Technique
from trainer.atlas.rendered import RenderedView
from trainer.authoring import page as model
from trainer.authoring.questions import (
    bank_to_yaml,
    check_upload,
    read_bank_folder,
    target_options,
    targets_words,
)
from trainer.errors import Problem, StoreError
from trainer.explorer.figures import image_url
from trainer.scoring.reveal import question_shapes
from trainer.settings import author_dir, quiz_dir
from trainer.ui.auth import require_host_key, view_label
from trainer.ui.common import get_view, page_setup, require_atlas
from trainer.ui.components.pinboard import pinboard, take_click
from trainer.ui.data import get_questions
from trainer.ui.live_common import plain_md
from trainer.ui.state import get_store

page_setup()
st.title("Author")
require_host_key("the author page")
atlas = require_atlas()
ss = st.session_state
folder, shipped = author_dir(), quiz_dir()
# What one question is made of; cleared after a save. View, type, body type, tolerances,
# difficulty, technique and the bank stay, as an author writes several questions in a row.
FORM_KEYS = (
    "au_targets",
    "au_snap_msg",
    "au_id",
    "au_prompt",
    "au_explanation",
    "au_refs",
    "au_try_pins",
    "au_choices_for",
    "au_mode",
    "au_multi",
)


def show_problems(problems: list[Problem]) -> None:
    """The validator's lines, shown as plain text (they may quote what the author typed)."""
    st.error(f"{len(problems)} problem(s) to fix:")
    st.code("\n".join(str(p) for p in problems), language=None, wrap_lines=True)


tab_new, tab_banks, tab_export = st.tabs(["New question", "Banks: import and download", "Exports"])

# =============================================================== new question
with tab_new:
    c1, c2, c3 = st.columns([2, 1, 1])
    view_id = c1.selectbox(
        "View", list(atlas.views), key="au_view", format_func=lambda v: view_label(atlas, v)
    )
    qtype = c2.selectbox("Type", list(model.FORMS), key="au_type", format_func=lambda t: model.FORMS[t].label)
    body = c3.selectbox(
        "Body type", list(atlas.body_types), key="au_body", format_func=lambda b: atlas.body_types[b].name
    )
    form = model.FORMS[qtype]
    view: RenderedView | None = get_view(view_id, body) if form.on_a_view else None
    v = atlas.views[view_id]
    ss.setdefault("au_targets", [])
    if ss.get("au_targets_for") != (view_id, qtype):
        # Targets belong to one view and type; switching either starts a fresh list.
        ss["au_targets"] = model.targets_kept(view, atlas, qtype, ss["au_targets"])
        ss["au_targets_for"] = (view_id, qtype)
        ss.pop("au_snap_msg", None)

    if view is not None:
        st.caption(model.snap_hint(qtype))

        def _on_pick() -> None:
            picked = take_click("au_pb")
            if picked is None or view is None:
                return
            change = model.click(
                view, atlas, qtype, ss.get("au_targets", []), float(picked["x"]), float(picked["y"])
            )
            ss["au_targets"] = list(change.targets)
            ss["au_snap_msg"] = change.message

        def _on_list_edit() -> None:
            ss["au_snap_msg"] = model.list_edit_message(ss.get("au_targets", []), atlas)

        left, right = st.columns([3, 2])
        with left:
            pinboard(
                key="au_pb",
                image_url=image_url(view),
                width_px=view.width_px,
                height_px=view.height_px,
                pins_px=[],
                active=True,
                shapes=model.target_shapes(view, ss["au_targets"]),
                hint="Click a site or a course",
                max_width_px=700,
                on_click=_on_pick,
            )
            # Every change to the targets is said here, with the whole list (issue 11, item 7).
            st.info(plain_md(ss.get("au_snap_msg") or targets_words(ss["au_targets"], atlas.name_of)))
        with right:
            st.multiselect(
                "Targets",
                target_options(view, atlas, qtype),
                key="au_targets",
                format_func=atlas.name_of,
                max_selections=1 if form.single_target else None,
                on_change=_on_list_edit,
            )
            if form.modes:
                st.radio(
                    "The learner…",
                    list(model.TERRITORY_MODES),
                    key="au_mode",
                    horizontal=True,
                    format_func=model.TERRITORY_MODES.get,
                )
            side_only = st.checkbox(
                f"Only the {v.side} side (otherwise both sides are practised)", key="au_side_only"
            )
    else:
        side_only = False

    prompt = st.text_area("Prompt (what the learner reads)", key="au_prompt", max_chars=600)
    explanation = st.text_area(
        "Explanation (shown after answering: why this is the answer)", key="au_explanation", max_chars=2000
    )
    c1, c2, c3, c4 = st.columns(4)
    tolerance = c1.number_input(
        "Tolerance (cm): full credit", 0.1, 5.0, 1.0, 0.1, key="au_tol", disabled=not form.measured
    )
    zero = c2.number_input(
        "Zero credit from (cm)", 0.2, 15.0, 3.0, 0.1, key="au_zero", disabled=not form.measured
    )
    difficulty = c3.selectbox(
        "Difficulty",
        list(model.DIFFICULTIES),
        index=1,
        key="au_diff",
        format_func=lambda d: model.DIFFICULTIES[d],
    )
    technique = c4.selectbox(
        "Technique",
        list(get_args(Technique)),
        key="au_technique",
        index=list(get_args(Technique)).index("classic_pit"),
    )
    refs = st.multiselect(
        "References (from the atlas)",
        list(atlas.references),
        key="au_refs",
        format_func=lambda r: f"{r}: {atlas.references[r].citation[:90]}",
    )

    choices: list[dict[str, Any]] = []
    mode = model.mode_of(qtype, ss.get("au_mode"))
    multi_answer = False
    if model.needs_choices(qtype, mode):
        st.markdown(model.choices_heading(qtype))
        if form.several_correct:
            multi_answer = st.checkbox("Several answers are correct", key="au_multi")
        seed_key = (qtype, tuple(ss.get("au_targets", [])))
        if ss.get("au_choices_for") != seed_key:
            ss["au_choices_seed"] = model.seed_choices(atlas, qtype, ss.get("au_targets", []))
            ss["au_choices_for"] = seed_key
            ss["au_choices_ver"] = ss.get("au_choices_ver", 0) + 1
        edited = st.data_editor(
            ss["au_choices_seed"],
            num_rows="dynamic",
            key=f"au_choices_{ss['au_choices_ver']}",
            column_config={
                "text": st.column_config.TextColumn("Choice", required=True),
                "correct": st.column_config.CheckboxColumn("Correct", default=False),
                "why": st.column_config.TextColumn("Why (optional)"),
            },
            width="stretch",
        )
        choices = model.choices_from_rows(edited)

    default_id = model.default_id(
        atlas, view_id, qtype, ss.get("au_targets", []), prompt, model.all_ids([shipped, folder])
    )
    qid = st.text_input(
        "Question id (letters, digits and _; unique across all banks)", key="au_id", placeholder=default_id
    )
    q, problems = model.draft_question(
        atlas,
        model.Draft(
            qid=qid.strip() or default_id,
            qtype=qtype,
            view_id=view_id,
            side_only=side_only,
            targets=tuple(ss.get("au_targets", [])),
            prompt=prompt,
            explanation=explanation,
            tolerance_cm=tolerance,
            zero_cm=zero,
            difficulty=int(difficulty),
            technique=technique,
            references=tuple(refs),
            choices=tuple(choices),
            multi_answer=multi_answer,
            mode=mode,
        ),
    )

    st.subheader("Preview: what the learner sees")
    if q is None:
        show_problems(problems)
    else:
        st.markdown(f"**{plain_md(q.prompt)}**")
        if view is not None and form.on_a_view:
            # Component ids must not contain "__" (view keys do): use a short digest instead.
            pv_key = "au_preview_" + hashlib.sha1(f"{q.id}|{view.key}".encode()).hexdigest()[:12]
            pins_taken = model.takes_pins(atlas, q)

            def _on_try(pv_key: str = pv_key) -> None:
                tapped = take_click(pv_key)
                if tapped is not None and q is not None:
                    ss["au_try_pins"] = model.try_pins(
                        atlas, q, ss.get("au_try_pins", []), float(tapped["x"]), float(tapped["y"])
                    )

            if ss.get("au_try_for") != pv_key:
                ss["au_try_for"] = pv_key
                ss["au_try_pins"] = []
            pinboard(
                key=pv_key,
                image_url=image_url(view),
                width_px=view.width_px,
                height_px=view.height_px,
                pins_px=ss["au_try_pins"],
                active=pins_taken,
                shapes=question_shapes(q, view),
                hint="Try it: tap as a learner would" if pins_taken else "",
                max_width_px=600,
                on_click=_on_try,
            )
            if pins_taken and ss["au_try_pins"]:
                st.info(model.try_result(atlas, q, ss["au_try_pins"], view))
                if st.button("Clear try", key="au_try_clear"):
                    ss["au_try_pins"] = []
                    st.rerun()
        for c in q.choices:
            st.markdown(("✅ " if c.correct else "▫️ ") + plain_md(c.text))
        st.caption("Explanation: " + plain_md(q.explanation))

    st.subheader("Save to a bank")
    banks = read_bank_folder(folder)
    b1, b2, b3 = st.columns([2, 1, 2])
    bank_choice = b1.selectbox(
        "Bank", [*banks, model.NEW_BANK], key="au_bank", format_func=lambda b: model.bank_label(b, banks)
    )
    new_id = new_title = ""
    if bank_choice == model.NEW_BANK:
        new_id = b2.text_input("Bank id", value="my_questions", key="au_new_bank_id")
        new_title = b3.text_input("Bank title", value="My questions", key="au_new_bank_title")
    if st.button("Save question", type="primary", disabled=q is None, key="au_save"):
        assert q is not None
        saved = model.save(folder, shipped, banks, bank_choice, new_id, new_title, q)
        if saved.path is None:
            st.error(saved.message)
        else:
            ss["au_saved_msg"] = saved.message
            # A fresh form: nothing of the saved question (above all its targets) carries over.
            for k in FORM_KEYS:
                ss.pop(k, None)
            st.rerun()
    if ss.get("au_saved_msg"):
        st.success(ss["au_saved_msg"])

# =============================================================== banks
with tab_banks:
    st.caption(f"Author banks live in `{folder}`. Shipped banks (in `{shipped}`) are read-only here.")
    banks = read_bank_folder(folder)
    if not banks:
        st.info("No author banks yet: save a question or upload a bank.")
    for bid, bank in banks.items():
        c1, c2 = st.columns([3, 1])
        c1.markdown(f"**{plain_md(bank.bank.title)}** · `{bid}` · {len(bank.questions)} question(s)")
        c2.download_button(
            "Download YAML",
            bank_to_yaml(bank),
            file_name=f"{bid}.yaml",
            mime="application/x-yaml",
            key=f"au_dl_{bid}",
            width="stretch",
        )

    st.subheader("Upload a bank")
    up = st.file_uploader("Bank YAML", type=["yaml", "yml"], key="au_upload")
    if up is not None:
        uploaded, problems = check_upload(atlas, up.getvalue(), up.name)
        if problems:
            show_problems(problems)
            st.caption("Fix these in the file and upload it again; nothing was merged.")
        elif uploaded is not None:
            st.success(f"{up.name}: {len(uploaded.questions)} question(s), no problems.")
            into = st.selectbox(
                "Merge into",
                model.merge_into_options(uploaded, banks),
                key="au_merge_into",
                format_func=lambda b: model.merge_into_label(b, banks),
            )
            warning = model.conflict_warning(model.merge_plan(folder, shipped, banks, uploaded, into))
            if warning:
                st.warning(warning)
            rename = st.checkbox("Add conflicting questions under a new id with a suffix", key="au_rename")
            suffix = st.text_input("Suffix", value="imported", key="au_suffix", disabled=not rename)
            if st.button("Merge", type="primary", key="au_merge"):
                ss["au_merge_msg"] = model.merge(
                    folder, shipped, banks, uploaded, into, suffix if rename else None
                )
                st.rerun()
    for line in ss.pop("au_merge_msg", []):
        st.info(line)

# =============================================================== exports
with tab_export:
    export_banks = model.export_banks(read_bank_folder(shipped), read_bank_folder(folder))
    picked = st.multiselect(
        "Banks to export",
        list(export_banks),
        key="au_ex_banks",
        default=[k for k in export_banks if model.is_authored(k)],
        format_func=lambda k: model.export_label(k, export_banks),
    )
    chosen = model.exported_questions(picked, export_banks, get_questions(atlas))
    st.caption(f"{len(chosen)} question(s) selected.")

    from trainer.authoring.exports import view_loader

    _view_for = view_loader(atlas, "right")  # an unrendered view is reported as skipped by the exporter

    e1, e2 = st.columns(2)
    if e1.button("Build Moodle XML", disabled=not chosen, key="au_ex_moodle", width="stretch"):
        from trainer.authoring.exports import moodle_xml

        with st.spinner("Encoding images…"):
            ss["au_ex_moodle_out"] = moodle_xml(chosen, atlas, _view_for)
    if e2.button("Build Anki deck", disabled=not chosen, key="au_ex_anki", width="stretch"):
        from trainer.authoring.exports import anki_package

        with st.spinner("Drawing cards…"):
            ss["au_ex_anki_out"] = anki_package(chosen, atlas, _view_for)
    if ss.get("au_ex_moodle_out") is not None:
        r = ss["au_ex_moodle_out"]
        e1.download_button(
            f"Download Moodle XML ({r.count} questions)",
            r.data,
            file_name="nerve-trainer-moodle.xml",
            mime="application/xml",
            key="au_ex_moodle_dl",
            width="stretch",
        )
        if note := model.skipped_note(r.skipped):
            e1.caption(note)
    if ss.get("au_ex_anki_out") is not None:
        r = ss["au_ex_anki_out"]
        e2.download_button(
            f"Download Anki deck ({r.count} cards)",
            r.data,
            file_name="nerve-trainer.apkg",
            mime="application/octet-stream",
            key="au_ex_anki_dl",
            width="stretch",
        )
        if note := model.skipped_note(r.skipped):
            e2.caption(note)

    st.subheader("Printable region sheet")
    s1, s2 = st.columns(2)
    sheet_view = s1.selectbox(
        "View", list(atlas.views), key="au_sheet_view", format_func=lambda x: view_label(atlas, x)
    )
    sheet_body = s2.selectbox(
        "Body type",
        list(atlas.body_types),
        key="au_sheet_body",
        format_func=lambda b: atlas.body_types[b].name,
    )
    if st.button("Make the sheet", key="au_sheet_go"):
        sv = get_view(sheet_view, sheet_body)
        if sv is not None:
            from trainer.authoring.exports import region_sheet_png

            ss["au_sheet"] = (sheet_view, sheet_body, region_sheet_png(sv, atlas))
    if ss.get("au_sheet"):
        sv_id, sb, png = ss["au_sheet"]
        st.image(png, caption=view_label(atlas, sv_id), width=500)
        st.download_button(
            "Download the sheet (PNG)",
            png,
            file_name=model.sheet_name(sv_id, sb),
            mime="image/png",
            key="au_sheet_dl",
        )

    st.subheader("Results as CSV")
    # Practice attempts belong to each learner (only they can reach them: Progress → Export);
    # a class's results are its live-class answers, downloaded here by the instructor who ran it.
    st.caption(
        "A live class's answers, one row per player and question. Learners download their own "
        "practice history from Progress."
    )
    from trainer.authoring.exports import rows_csv

    store = get_store()
    try:
        sessions = store.list_sessions(limit=50)
        if sessions:
            labels = model.session_labels(sessions)
            sid = st.selectbox(
                "Live class", list(labels), key="au_csv_session", format_func=labels.__getitem__
            )
            st.download_button(
                "That class's answers (CSV)",
                rows_csv(store.export_answer_rows(sid)),
                file_name=f"class-{sid}.csv",
                mime="text/csv",
                key="au_csv_live",
            )
        else:
            st.info("No live class has been run on this server yet.")
    except StoreError as exc:
        st.error(f"The store could not be read: {exc}")
