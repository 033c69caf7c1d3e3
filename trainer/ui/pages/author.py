"""Author: write questions by clicking targets on a view, keep them in banks, import and export.

Banks are YAML files in ``TRAINER_AUTHOR_DIR`` (default ``<data dir>/banks``); Practice and
live classes read them alongside the shipped banks. Every check is the validator's own, so
problems read exactly like ``python -m trainer validate``.
"""

from __future__ import annotations

import hashlib
from typing import Any, get_args

import streamlit as st

from trainer.atlas.models import Technique
from trainer.atlas.rendered import RenderedView
from trainer.authoring.questions import (
    AUTHOR_TYPES,
    TARGET_KINDS,
    apply_click,
    bank_to_yaml,
    build_question,
    check_upload,
    default_choices,
    merge_questions,
    new_bank,
    question_ids,
    read_bank_folder,
    save_question,
    snap_click,
    suggest_id,
    target_options,
    targets_words,
)
from trainer.errors import Problem, StoreError
from trainer.explorer.figures import image_url
from trainer.quiz.models import QuestionModel
from trainer.scoring.reveal import question_shapes
from trainer.scoring.score import Answer, score
from trainer.settings import author_dir, quiz_dir
from trainer.ui.auth import require_host_key, view_label
from trainer.ui.common import get_atlas, get_view, page_setup
from trainer.ui.components.pinboard import pinboard, take_click
from trainer.ui.data import get_questions
from trainer.ui.live_common import plain_md

page_setup()
st.title("Author")
require_host_key("the author page")
atlas = get_atlas()
if atlas is None:
    st.stop()
ss = st.session_state
folder = author_dir()
TYPE_LABELS = {"locate": "Locate (one pin)", "multi_site": "Multi-site (several pins)", "trace": "Trace a course",
               "identify": "Identify the highlighted nerve", "territory": "Territory", "clinical": "Clinical (multiple choice)"}
# What one question is made of; cleared after a save. View, type, body type, tolerances,
# difficulty, technique and the bank stay, as an author writes several questions in a row.
FORM_KEYS = ("au_targets", "au_snap_msg", "au_id", "au_prompt", "au_explanation", "au_refs", "au_try_pins",
             "au_choices_for", "au_mode", "au_multi")
KIND_COLOURS = {"site": "#12a150", "nerve": "#1f77ff", "territory": "rgba(90,140,255,0.8)"}


def show_problems(problems: list[Problem]) -> None:
    """The validator's lines, shown as plain text (they may quote what the author typed)."""
    st.error(f"{len(problems)} problem(s) to fix:")
    st.code("\n".join(str(p) for p in problems), language=None, wrap_lines=True)


def taken_ids() -> dict[str, str]:
    return question_ids([quiz_dir(), folder])


tab_new, tab_banks, tab_export = st.tabs(["New question", "Banks: import and download", "Exports"])

# =============================================================== new question
with tab_new:
    c1, c2, c3 = st.columns([2, 1, 1])
    view_id = c1.selectbox("View", list(atlas.views), key="au_view", format_func=lambda v: view_label(atlas, v))
    qtype = c2.selectbox("Type", list(AUTHOR_TYPES), key="au_type", format_func=TYPE_LABELS.get)
    body = c3.selectbox("Body type", list(atlas.body_types), key="au_body", format_func=lambda b: atlas.body_types[b].name)
    view: RenderedView | None = get_view(view_id, body) if qtype != "clinical" else None
    v = atlas.views[view_id]
    kinds = TARGET_KINDS[qtype]
    ss.setdefault("au_targets", [])
    if ss.get("au_targets_for") != (view_id, qtype):
        # Targets belong to one view and type; switching either starts a fresh list.
        options_now = target_options(view, atlas, qtype)
        ss["au_targets"] = [t for t in ss["au_targets"] if t in options_now]
        ss["au_targets_for"] = (view_id, qtype)
        ss.pop("au_snap_msg", None)

    if view is not None:
        options = target_options(view, atlas, qtype)
        single = qtype in ("locate", "trace", "identify", "territory")
        st.caption("Click on the image to pick a target: the click snaps to the nearest "
                   + " or ".join(kinds) + " within 3 cm on the body. Or choose from the list.")

        def _on_pick() -> None:
            click = take_click("au_pb")
            if click is None or view is None:
                return
            snap = snap_click(view, float(click["x"]), float(click["y"]), kinds)
            change = apply_click(ss.get("au_targets", []), snap, single, atlas.name_of)
            ss["au_targets"] = list(change.targets)
            ss["au_snap_msg"] = change.message

        def _on_list_edit() -> None:
            ss["au_snap_msg"] = "Changed in the list. " + targets_words(ss.get("au_targets", []), atlas.name_of)

        shapes: list[dict[str, Any]] = []
        w = max(view.width_px, view.height_px) / 150
        for t in ss["au_targets"]:
            it = view.items.get(t)
            if it is None:
                continue
            if it.kind == "site":
                x, y = it.points_px[0]
                shapes.append({"type": "circle", "x": float(x), "y": float(y), "r": w * 1.5, "stroke": "white",
                               "fill": KIND_COLOURS["site"], "width": w / 3})
            elif it.kind == "nerve":
                pts = [[float(a), float(b)] for (a, b), vis in zip(it.points_px, it.visible, strict=True) if vis]
                shapes.append({"type": "polyline", "points": pts, "stroke": KIND_COLOURS["nerve"], "width": w})
            else:
                pts = [[float(a), float(b)] for a, b in it.points_px]
                shapes.append({"type": "polygon", "points": pts, "stroke": KIND_COLOURS["territory"],
                               "fill": "rgba(90,140,255,0.25)", "width": w / 2})
        left, right = st.columns([3, 2])
        with left:
            pinboard(key="au_pb", image_url=image_url(view), width_px=view.width_px, height_px=view.height_px,
                     pins_px=[], active=True, shapes=shapes, hint="Click a site or a course", max_width_px=700,
                     on_click=_on_pick)
            # Every change to the targets is said here, with the whole list (issue 11, item 7).
            st.info(plain_md(ss.get("au_snap_msg") or targets_words(ss["au_targets"], atlas.name_of)))
        with right:
            st.multiselect("Targets", options, key="au_targets", format_func=atlas.name_of,
                           max_selections=1 if single else None, on_change=_on_list_edit)
            if qtype == "territory":
                st.radio("The learner…", ["name", "tap"], key="au_mode", horizontal=True,
                         format_func={"name": "names the nerve of the shaded area", "tap": "taps inside the territory"}.get)
            side_only = st.checkbox(f"Only the {v.side} side (otherwise both sides are practised)", key="au_side_only")
    else:
        side_only = False

    prompt = st.text_area("Prompt (what the learner reads)", key="au_prompt", max_chars=600)
    explanation = st.text_area("Explanation (shown after answering: why this is the answer)", key="au_explanation",
                               max_chars=2000)
    c1, c2, c3, c4 = st.columns(4)
    tolerance = c1.number_input("Tolerance (cm): full credit", 0.1, 5.0, 1.0, 0.1, key="au_tol",
                                disabled=qtype in ("identify", "clinical"))
    zero = c2.number_input("Zero credit from (cm)", 0.2, 15.0, 3.0, 0.1, key="au_zero",
                           disabled=qtype in ("identify", "clinical"))
    difficulty = c3.selectbox("Difficulty", [1, 2, 3], index=1, key="au_diff",
                              format_func={1: "easy", 2: "medium", 3: "hard"}.get)
    technique = c4.selectbox("Technique", list(get_args(Technique)), key="au_technique",
                             index=list(get_args(Technique)).index("classic_pit"))
    refs = st.multiselect("References (from the atlas)", list(atlas.references), key="au_refs",
                          format_func=lambda r: f"{r}: {atlas.references[r].citation[:90]}")

    choices: list[dict[str, Any]] = []
    mode = ss.get("au_mode", "name") if qtype == "territory" else None
    multi_answer = False
    if qtype in ("identify", "clinical") or (qtype == "territory" and mode == "name"):
        st.markdown("**Choices** (tick the correct one" + ("s" if qtype == "clinical" else "") + ")")
        if qtype == "clinical":
            multi_answer = st.checkbox("Several answers are correct", key="au_multi")
        seed_key = (qtype, tuple(ss.get("au_targets", [])))
        if ss.get("au_choices_for") != seed_key:
            seeded = default_choices(atlas, ss["au_targets"][0]) if qtype != "clinical" and ss.get("au_targets") else []
            ss["au_choices_seed"] = [{"text": c.text, "correct": c.correct, "why": ""} for c in seeded] or [
                {"text": "", "correct": True, "why": ""}, {"text": "", "correct": False, "why": ""}]
            ss["au_choices_for"] = seed_key
            ss["au_choices_ver"] = ss.get("au_choices_ver", 0) + 1
        edited = st.data_editor(ss["au_choices_seed"], num_rows="dynamic", key=f"au_choices_{ss['au_choices_ver']}",
                                column_config={"text": st.column_config.TextColumn("Choice", required=True),
                                               "correct": st.column_config.CheckboxColumn("Correct", default=False),
                                               "why": st.column_config.TextColumn("Why (optional)")},
                                width="stretch")
        for row in edited:
            text = str(row.get("text") or "").strip()
            if text:
                c: dict[str, Any] = {"text": text, "correct": bool(row.get("correct"))}
                if str(row.get("why") or "").strip():
                    c["why"] = str(row["why"]).strip()
                choices.append(c)

    taken = taken_ids()
    default_id = suggest_id(f"{v.base_id}_{qtype}_{(ss.get('au_targets') or ['q'])[0]}" if qtype != "clinical"
                            else f"clinical_{prompt[:30]}", taken)
    qid = st.text_input("Question id (letters, digits and _; unique across all banks)", key="au_id", placeholder=default_id)
    q, problems = build_question(
        atlas, qid=qid.strip() or default_id, qtype=qtype, prompt=prompt,
        view=(view_id if side_only else v.base_id), targets=list(ss.get("au_targets", [])),
        tolerance_cm=tolerance, zero_cm=zero, explanation=explanation, references=refs, choices=choices,
        multi_answer=multi_answer, mode=mode, difficulty=int(difficulty), technique=technique,
    )

    st.subheader("Preview: what the learner sees")
    if q is None:
        show_problems(problems)
    else:
        st.markdown(f"**{plain_md(q.prompt)}**")
        if view is not None and q.type != "clinical":
            pv = view if q.view == view.view_id or q.view == v.base_id else None
            # Component ids must not contain "__" (view keys do): use a short digest instead.
            pv_key = "au_preview_" + hashlib.sha1(f"{q.id}|{view.key}".encode()).hexdigest()[:12]

            def _on_try(pv_key: str = pv_key) -> None:
                click = take_click(pv_key)
                if click is not None:
                    ss["au_try_pins"] = [(float(click["x"]), float(click["y"]))] if q.type != "multi_site" and q.type != "trace" \
                        else [*ss.get("au_try_pins", []), (float(click["x"]), float(click["y"]))]

            if ss.get("au_try_for") != pv_key:
                ss["au_try_for"] = pv_key
                ss["au_try_pins"] = []
            pin_types = q.type in ("locate", "multi_site", "trace") or (q.type == "territory" and q.mode == "tap")
            pinboard(key=pv_key, image_url=image_url(view), width_px=view.width_px, height_px=view.height_px,
                     pins_px=ss["au_try_pins"], active=pin_types, shapes=question_shapes(q, pv or view),
                     hint="Try it: tap as a learner would" if pin_types else "", max_width_px=600, on_click=_on_try)
            if pin_types and ss["au_try_pins"]:
                res = score(q, Answer(pins_px=tuple(ss["au_try_pins"])), view, atlas)
                st.info(f"Your try scores {res.percent}%: {res.feedback}")
                if st.button("Clear try", key="au_try_clear"):
                    ss["au_try_pins"] = []
                    st.rerun()
        for c in q.choices:
            st.markdown(("✅ " if c.correct else "▫️ ") + plain_md(c.text))
        st.caption("Explanation: " + plain_md(q.explanation))

    st.subheader("Save to a bank")
    banks = read_bank_folder(folder)
    NEW = "__new__"
    b1, b2, b3 = st.columns([2, 1, 2])
    bank_choice = b1.selectbox("Bank", [*banks, NEW], key="au_bank",
                               format_func=lambda b: "New bank…" if b == NEW else f"{banks[b].bank.title} ({b})")
    if bank_choice == NEW:
        new_id = b2.text_input("Bank id", value="my_questions", key="au_new_bank_id")
        new_title = b3.text_input("Bank title", value="My questions", key="au_new_bank_title")
    if st.button("Save question", type="primary", disabled=q is None, key="au_save"):
        assert q is not None
        try:
            if bank_choice == NEW:
                if new_id in banks:
                    raise ValueError(f"a bank with id '{new_id}' already exists; choose it from the list")
                bank = new_bank(new_id.strip(), new_title.strip() or new_id)
            else:
                bank = banks[bank_choice]
            others = {k: val for k, val in taken.items() if not val.endswith(f"{bank.bank.id}.yaml")}
            path = save_question(folder, bank, q, others)
        except (ValueError, OSError) as exc:
            st.error(f"Not saved: {exc}")
        else:
            ss["au_saved_msg"] = f"Saved '{q.id}' to {path}. It is available in Practice and Host a class now."
            # A fresh form: nothing of the saved question (above all its targets) carries over.
            for k in FORM_KEYS:
                ss.pop(k, None)
            st.rerun()
    if ss.get("au_saved_msg"):
        st.success(ss["au_saved_msg"])

# =============================================================== banks
with tab_banks:
    st.caption(f"Author banks live in `{folder}`. Shipped banks (in `{quiz_dir()}`) are read-only here.")
    banks = read_bank_folder(folder)
    if not banks:
        st.info("No author banks yet: save a question or upload a bank.")
    for bid, bank in banks.items():
        c1, c2 = st.columns([3, 1])
        c1.markdown(f"**{plain_md(bank.bank.title)}** · `{bid}` · {len(bank.questions)} question(s)")
        c2.download_button("Download YAML", bank_to_yaml(bank), file_name=f"{bid}.yaml", mime="application/x-yaml",
                           key=f"au_dl_{bid}", width="stretch")

    st.subheader("Upload a bank")
    up = st.file_uploader("Bank YAML", type=["yaml", "yml"], key="au_upload")
    if up is not None:
        label = up.name
        bank, problems = check_upload(atlas, up.getvalue(), label)
        if problems:
            show_problems(problems)
            st.caption("Fix these in the file and upload it again; nothing was merged.")
        elif bank is not None:
            st.success(f"{label}: {len(bank.questions)} question(s), no problems.")
            into = st.selectbox("Merge into", [bank.bank.id, *[b for b in banks if b != bank.bank.id]], key="au_merge_into",
                                format_func=lambda b: f"{b} ({'existing' if b in banks else 'new bank'})")
            target = banks.get(into) or new_bank(into, bank.bank.title, bank.bank.description)
            others = {k: val for k, val in taken_ids().items() if not val.endswith(f"{into}.yaml")}
            dry = merge_questions(target, bank.questions, others)
            if dry.conflicts:
                st.warning(f"{len(dry.conflicts)} id(s) are already used and will not overwrite anything: "
                           + ", ".join(dry.conflicts))
            rename = st.checkbox("Add conflicting questions under a new id with a suffix", key="au_rename")
            suffix = st.text_input("Suffix", value="imported", key="au_suffix", disabled=not rename)
            if st.button("Merge", type="primary", key="au_merge"):
                report = merge_questions(target, bank.questions, others, rename_suffix=suffix if rename else None)
                from trainer.authoring.questions import write_bank

                write_bank(folder, report.bank)
                ss["au_merge_msg"] = report.lines() or ["Nothing to merge."]
                st.rerun()
    for line in ss.pop("au_merge_msg", []):
        st.info(line)

# =============================================================== exports
with tab_export:
    all_q = get_questions(atlas)
    shipped = read_bank_folder(quiz_dir())
    authored = read_bank_folder(folder)
    bank_ids = {**{f"quiz:{k}": v for k, v in shipped.items()}, **{f"author:{k}": v for k, v in authored.items()}}
    picked = st.multiselect("Banks to export", list(bank_ids), key="au_ex_banks",
                            default=[k for k in bank_ids if k.startswith("author:")],
                            format_func=lambda k: f"{bank_ids[k].bank.title} ({'yours' if k.startswith('author:') else 'shipped'})")
    chosen: list[QuestionModel] = [all_q.get(qq.id, qq) for k in picked for qq in bank_ids[k].questions]
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
        e1.download_button(f"Download Moodle XML ({r.count} questions)", r.data, file_name="nerve-trainer-moodle.xml",
                           mime="application/xml", key="au_ex_moodle_dl", width="stretch")
        if r.skipped:
            e1.caption("Not exported: " + "; ".join(r.skipped[:20]) + (" …" if len(r.skipped) > 20 else ""))
    if ss.get("au_ex_anki_out") is not None:
        r = ss["au_ex_anki_out"]
        e2.download_button(f"Download Anki deck ({r.count} cards)", r.data, file_name="nerve-trainer.apkg",
                           mime="application/octet-stream", key="au_ex_anki_dl", width="stretch")
        if r.skipped:
            e2.caption("Not exported: " + "; ".join(r.skipped[:20]) + (" …" if len(r.skipped) > 20 else ""))

    st.subheader("Printable region sheet")
    s1, s2 = st.columns(2)
    sheet_view = s1.selectbox("View", list(atlas.views), key="au_sheet_view", format_func=lambda x: view_label(atlas, x))
    sheet_body = s2.selectbox("Body type", list(atlas.body_types), key="au_sheet_body",
                              format_func=lambda b: atlas.body_types[b].name)
    if st.button("Make the sheet", key="au_sheet_go"):
        sv = get_view(sheet_view, sheet_body)
        if sv is not None:
            from trainer.authoring.exports import region_sheet_png

            ss["au_sheet"] = (sheet_view, sheet_body, region_sheet_png(sv, atlas))
    if ss.get("au_sheet"):
        sv_id, sb, png = ss["au_sheet"]
        st.image(png, caption=view_label(atlas, sv_id), width=500)
        st.download_button("Download the sheet (PNG)", png, file_name=f"{sv_id}__{sb}-sheet.png", mime="image/png",
                           key="au_sheet_dl")

    st.subheader("Results as CSV")
    # Practice attempts belong to each learner (only they can reach them: Progress → Export);
    # a class's results are its live-class answers, downloaded here by the instructor who ran it.
    st.caption("A live class's answers, one row per player and question. Learners download their own "
               "practice history from Progress.")
    from trainer.authoring.exports import rows_csv
    from trainer.ui.state import get_store

    store = get_store()
    try:
        sessions = store.list_sessions(limit=50)
        if sessions:
            sid = st.selectbox("Live class", [s.id for s in sessions], key="au_csv_session",
                               format_func=lambda i: next(f"{s.join_code} · {s.title or ''} · "
                                                          f"{s.created_at:%d %b %H:%M}" if s.created_at else s.join_code
                                                          for s in sessions if s.id == i))
            st.download_button("That class's answers (CSV)", rows_csv(store.export_answer_rows(sid)),
                               file_name=f"class-{sid}.csv", mime="text/csv", key="au_csv_live")
        else:
            st.info("No live class has been run on this server yet.")
    except StoreError as exc:
        st.error(f"The store could not be read: {exc}")
