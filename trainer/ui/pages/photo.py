"""Photo overlay: upload a photo of a real limb, tap the view's landmarks, see the nerves on it.

The photo stays in this browser session's memory; it is written to the data folder only if
the instructor ticks "keep this photo", and can be deleted from there on this page. Layout
only: the decisions are in :mod:`trainer.authoring.photo_page`, the files in
:mod:`trainer.authoring.kept_photos`.
"""

from __future__ import annotations

import streamlit as st
from PIL import Image

from trainer.authoring import kept_photos
from trainer.authoring import photo_page as model
from trainer.authoring.photo import (
    MIN_LANDMARKS,
    FitError,
    accepted_label,
    fit_landmarks,
    fitted_positions,
    landmark_guide,
    view_landmarks,
)
from trainer.errors import TrainerError
from trainer.settings import current
from trainer.ui.auth import require_host_key, view_label
from trainer.ui.common import get_view, page_setup, require_atlas
from trainer.ui.components.pinboard import pinboard, take_click

#: What "Forget this photo now" clears from the session.
PHOTO_STATE = (
    "ph_work",
    "ph_taps",
    "ph_digest",
    "ph_error",
    "ph_skipped",
    "ph_handout",
    "ph_handout_stamp",
    "ph_cache",
)

page_setup()
st.title("Photo overlay")
require_host_key("the photo overlay")
atlas = require_atlas()
ss = st.session_state
folder = current().photo_dir
st.caption(
    "Photograph the model's limb square-on, upload it, then tap the landmarks you are asked for. "
    f"With {MIN_LANDMARKS} landmarks the app fits an affine map; with {model.SPLINE_FROM} or more, a thin-plate spline."
)

# ---------------------------------------------------------------- upload
upload = st.file_uploader(f"Photo ({accepted_label()}; up to 15 MB and 40 megapixels)", key="ph_upload")
if upload is not None:
    read = model.read_upload(upload.getvalue(), ss.get("ph_digest"))
    if read is not None:
        ss["ph_digest"], ss["ph_error"] = read.stem, read.error
        if read.jpeg is None:
            ss.pop("ph_work", None)
        else:
            ss["ph_work"] = read.jpeg
            ss["ph_taps"] = {}
            ss["ph_seq"] = ss.get("ph_seq", 0) + 1
if ss.get("ph_error"):
    st.error(ss["ph_error"])

# ---------------------------------------------------------------- kept photos (consent)
kept = kept_photos.list_kept(folder)
if kept:
    with st.expander(f"Photos kept on this server ({len(kept)})"):
        for photo_file in kept:
            c1, c2 = st.columns([3, 1])
            c1.caption(photo_file.file_name)
            if c2.button("Delete", key=f"ph_del_{photo_file.stem}"):
                kept_photos.delete(folder, photo_file.stem)
                st.rerun()
            if c1.button("Open", key=f"ph_open_{photo_file.stem}"):
                reopened = kept_photos.reopen(folder, photo_file.stem)
                ss["ph_work"] = reopened.jpeg
                ss["ph_digest"] = photo_file.stem
                ss["ph_taps"] = reopened.taps_px
                ss["ph_keep"] = True  # it was kept with consent; unticking deletes it
                if reopened.view_id in atlas.views:
                    ss["ph_view"] = reopened.view_id
                ss["ph_seq"] = ss.get("ph_seq", 0) + 1
                st.rerun()

if not ss.get("ph_work"):
    st.info("Upload a photo to begin. Nothing is stored unless you ask for it.")
    st.stop()

work_bytes: bytes = ss["ph_work"]
# Decode the photo and encode its on-screen copy once per photo, not on every tap.
if ss.get("ph_cache_key") != ss.get("ph_digest") or "ph_cache" not in ss:
    ss["ph_cache"] = model.shown_copy(work_bytes)
    ss["ph_cache_key"] = ss.get("ph_digest")
shown: model.Shown = ss["ph_cache"]

# ---------------------------------------------------------------- view
ss.setdefault("ph_view", model.default_view(atlas))
c1, c2 = st.columns(2)
view_id = c1.selectbox(
    "Matching view", list(atlas.views), key="ph_view", format_func=lambda v: view_label(atlas, v)
)
body_type = c2.selectbox(
    "Body type", list(atlas.body_types), format_func=lambda b: atlas.body_types[b].name, key="ph_body"
)
view = get_view(view_id, body_type)
if view is None:
    st.stop()
landmarks = view_landmarks(view, atlas)
if len(landmarks) < MIN_LANDMARKS:
    st.warning(f"This view shows only {len(landmarks)} named landmarks; choose another view.")
    st.stop()
if ss.get("ph_taps_view") != view.key:
    ss["ph_taps_view"] = view.key
    ss["ph_taps"] = model.taps_for_view(ss.get("ph_taps", {}), landmarks)
ss.setdefault("ph_taps", {})
ss.setdefault("ph_skipped", set())
state = model.tapping(landmarks, ss["ph_taps"], ss["ph_skipped"])

# ---------------------------------------------------------------- guided tapping
left, right = st.columns([1, 3])
with left:
    if state.current is not None and state.step is not None:
        lm = atlas.landmarks[state.current]
        st.markdown(f"**Landmark {state.step[0]} of {state.step[1]}: {lm.name}**")
        with Image.open(view.image_path) as render:
            st.image(
                landmark_guide(render, landmarks[state.current], view.camera.px_per_cm),
                width="stretch",
                caption="Where it is on the render",
            )
        if lm.palpation:
            st.caption(lm.palpation)
        if st.button("Skip this landmark", key="ph_skip", width="stretch"):
            ss["ph_skipped"] = {*ss["ph_skipped"], state.current}
            st.rerun()
    else:
        st.success(f"All landmarks done ({len(state.taps)} tapped).")
    b1, b2 = st.columns(2)
    if b1.button("Undo last", key="ph_undo", disabled=not state.can_undo, width="stretch"):
        ss["ph_taps"] = state.undone()
        st.rerun()
    if b2.button("Start over", key="ph_reset", disabled=not state.can_start_over, width="stretch"):
        ss["ph_taps"], ss["ph_skipped"] = {}, set()
        st.rerun()
    st.caption(state.status())

with right:
    pb_key = f"ph_pb_{ss.get('ph_seq', 0)}"

    def _on_tap(pb_key: str = pb_key, asked: str | None = state.current) -> None:
        click = take_click(pb_key)
        if click is not None:
            now = model.tapping(landmarks, ss["ph_taps"], ss["ph_skipped"])
            ss["ph_taps"] = now.tapped(asked, float(click["x"]), float(click["y"]), shown.to_work)

    pinboard(
        key=pb_key,
        image_url=shown.data_url,
        width_px=shown.size_px[0],
        height_px=shown.size_px[1],
        pins_px=state.pins_shown(shown.to_work),
        active=state.current is not None,
        hint=f"Tap the {atlas.landmarks[state.current].name}" if state.current else "",
        max_width_px=900,
        on_click=_on_tap,
    )

# ---------------------------------------------------------------- fit and overlay
if not state.ready:
    st.info(f"Tap at least {MIN_LANDMARKS} landmarks to place the nerves ({len(state.taps)} so far).")
    st.stop()
try:
    report = fit_landmarks(state.tapped_landmarks(landmarks), state.taps, view.camera.px_per_cm)
except FitError as exc:
    st.error(f"The landmarks do not fit: {exc}. Undo the last tap or start over.")
    st.stop()

summary = model.fit_summary(atlas, report)
m1, m2, m3 = st.columns(3)
m1.metric("Transform", summary.transform)
m2.metric(
    "Fit error",
    summary.error,
    help="Leave-one-out: each landmark predicted from the others, in cm on the body. "
    "Over about 1 cm, re-check the taps.",
)
m3.metric("Landmarks", summary.landmarks)
if summary.warning:
    st.warning(summary.warning)

layers = st.multiselect(
    "Draw",
    list(model.LAYER_NAMES),
    default=list(model.DEFAULT_LAYERS),
    key="ph_layers",
    format_func=lambda name: model.LAYER_NAMES[name],
)
# Drawing and PNG-encoding a large photo takes a moment: do it once per set of inputs.
stamp = (ss.get("ph_digest"), view.key, tuple(sorted(state.taps.items())), tuple(layers))
if ss.get("ph_handout_stamp") != stamp:
    ss["ph_handout"] = model.handout_files(shown.photo, view, atlas, report, state.taps, layers)
    ss["ph_handout_stamp"] = stamp
png_bytes, preview_jpeg = ss["ph_handout"]
st.image(preview_jpeg, caption="The handout (photo, overlay, legend and scale)", width="stretch")
st.download_button(
    "Download handout (PNG)",
    png_bytes,
    file_name=model.handout_name(view),
    mime="image/png",
    type="primary",
    key="ph_download",
)

st.caption("Fitted positions on the photo (pixels of the photo as processed), for checking:")
st.code(
    model.positions_json(shown.photo, report, fitted_positions(view, atlas, report.transform)),
    language="json",
)

# ---------------------------------------------------------------- consent to keep
keep = st.checkbox("Keep this photo on this server (in the data folder) so I can reopen it", key="ph_keep")
stem = ss["ph_digest"]
if keep:
    try:
        path = kept_photos.keep(folder, stem, work_bytes, view.view_id, state.taps)
        st.caption(f"Kept as {path.name}. Untick to delete it.")
    except (OSError, TrainerError) as exc:
        st.error(f"Could not keep the photo: {exc}")
elif kept_photos.delete(folder, stem):
    st.caption("The kept copy was deleted.")
if st.button("Forget this photo now", key="ph_forget"):
    for k in PHOTO_STATE:
        ss.pop(k, None)
    st.rerun()
