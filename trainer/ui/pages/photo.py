"""Photo overlay: upload a photo of a real limb, tap the view's landmarks, see the nerves on it.

The photo stays in this browser session's memory; it is written to the data folder only if
the instructor ticks "keep this photo", and can be deleted from there on this page.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import streamlit as st
from PIL import Image

from trainer.authoring.photo import (
    MIN_LANDMARKS,
    FitError,
    accepted_label,
    fit_landmarks,
    fitted_positions,
    landmark_guide,
    load_photo,
    photo_handout,
    to_jpeg_bytes,
    to_png_bytes,
    view_landmarks,
)
from trainer.errors import TrainerError, UploadError
from trainer.settings import current
from trainer.ui.auth import require_host_key, view_label
from trainer.ui.common import get_atlas, get_view, page_setup
from trainer.ui.components.pinboard import pinboard, take_click

DISPLAY_MAX_PX = 1200

page_setup()
st.title("Photo overlay")
require_host_key("the photo overlay")
atlas = get_atlas()
if atlas is None:
    st.stop()
ss = st.session_state
st.caption(
    "Photograph the model's limb square-on, upload it, then tap the landmarks you are asked for. "
    f"With {MIN_LANDMARKS} landmarks the app fits an affine map; with 6 or more, a thin-plate spline."
)

# ---------------------------------------------------------------- upload
upload = st.file_uploader(f"Photo ({accepted_label()}; up to 15 MB and 40 megapixels)", key="ph_upload")
if upload is not None:
    raw = upload.getvalue()
    digest = hashlib.sha256(raw).hexdigest()[:16]
    if ss.get("ph_digest") != digest:
        try:
            work = load_photo(raw)
        except UploadError as exc:
            ss.pop("ph_work", None)
            ss["ph_digest"] = digest
            ss["ph_error"] = str(exc)
        else:
            ss["ph_digest"] = digest
            ss["ph_error"] = None
            ss["ph_work"] = to_jpeg_bytes(work, quality=92)
            ss["ph_taps"] = {}
            ss["ph_seq"] = ss.get("ph_seq", 0) + 1
    del raw
if ss.get("ph_error"):
    st.error(ss["ph_error"])

# ---------------------------------------------------------------- kept photos (consent)
kept = sorted(current().photo_dir.glob("*.jpg")) if current().photo_dir.is_dir() else []
if kept:
    with st.expander(f"Photos kept on this server ({len(kept)})"):
        for path in kept:
            c1, c2 = st.columns([3, 1])
            c1.caption(path.name)
            if c2.button("Delete", key=f"ph_del_{path.stem}"):
                path.unlink(missing_ok=True)
                path.with_suffix(".json").unlink(missing_ok=True)
                st.rerun()
            if c1.button("Open", key=f"ph_open_{path.stem}"):
                ss["ph_work"] = path.read_bytes()
                ss["ph_digest"] = path.stem
                meta = path.with_suffix(".json")
                saved = json.loads(meta.read_text()) if meta.exists() else {}
                ss["ph_taps"] = {k: tuple(v) for k, v in saved.get("taps", {}).items()}
                ss["ph_keep"] = True  # it was kept with consent; unticking deletes it
                if saved.get("view") in atlas.views:
                    ss["ph_view"] = saved["view"]
                ss["ph_seq"] = ss.get("ph_seq", 0) + 1
                st.rerun()

if not ss.get("ph_work"):
    st.info("Upload a photo to begin. Nothing is stored unless you ask for it.")
    st.stop()

work_bytes: bytes = ss["ph_work"]
# Decode the photo and encode its on-screen copy once per photo, not on every tap.
if ss.get("ph_cache_key") != ss.get("ph_digest") or "ph_cache" not in ss:
    decoded = Image.open(io.BytesIO(work_bytes)).convert("RGB")
    shown = decoded.copy()
    shown.thumbnail((DISPLAY_MAX_PX, DISPLAY_MAX_PX))
    url = "data:image/jpeg;base64," + base64.b64encode(to_jpeg_bytes(shown, quality=85)).decode("ascii")
    ss["ph_cache"] = (decoded, shown.size, url)
    ss["ph_cache_key"] = ss.get("ph_digest")
photo, disp_size, data_url = ss["ph_cache"]

# ---------------------------------------------------------------- view
view_ids = list(atlas.views)
wanted = st.query_params.get("view")
if "ph_view" not in ss:
    ss["ph_view"] = wanted if wanted in atlas.views else next((v for v in view_ids if v.startswith("knee")), view_ids[0])
c1, c2 = st.columns(2)
view_id = c1.selectbox("Matching view", view_ids, key="ph_view", format_func=lambda v: view_label(atlas, v))
body_type = c2.selectbox("Body type", list(atlas.body_types), format_func=lambda b: atlas.body_types[b].name, key="ph_body")
view = get_view(view_id, body_type)
if view is None:
    st.stop()
landmarks = view_landmarks(view, atlas)
if len(landmarks) < MIN_LANDMARKS:
    st.warning(f"This view shows only {len(landmarks)} named landmarks; choose another view.")
    st.stop()
if ss.get("ph_taps_view") != view.key:
    ss["ph_taps_view"] = view.key
    ss["ph_taps"] = {k: v for k, v in ss.get("ph_taps", {}).items() if k in landmarks}
taps: dict[str, tuple[float, float]] = ss.setdefault("ph_taps", {})
skipped: set[str] = ss.setdefault("ph_skipped", set())
order = list(landmarks)
todo = [lm for lm in order if lm not in taps and lm not in skipped]
current = todo[0] if todo else None

# ---------------------------------------------------------------- guided tapping
to_work = photo.width / disp_size[0]

left, right = st.columns([1, 3])
with left:
    if current is not None:
        lm = atlas.landmarks[current]
        st.markdown(f"**Landmark {order.index(current) + 1} of {len(order)}: {lm.name}**")
        with Image.open(view.image_path) as render:
            st.image(landmark_guide(render, landmarks[current], view.camera.px_per_cm), width="stretch",
                     caption="Where it is on the render")
        if lm.palpation:
            st.caption(lm.palpation)
        if st.button("Skip this landmark", key="ph_skip", width="stretch"):
            skipped.add(current)
            st.rerun()
    else:
        st.success(f"All landmarks done ({len(taps)} tapped).")
    b1, b2 = st.columns(2)
    if b1.button("Undo last", key="ph_undo", disabled=not taps, width="stretch"):
        taps.pop(next(reversed(taps)))
        st.rerun()
    if b2.button("Start over", key="ph_reset", disabled=not (taps or skipped), width="stretch"):
        taps.clear()
        skipped.clear()
        st.rerun()
    st.caption(f"{len(taps)} tapped · {MIN_LANDMARKS} needed · 6+ for a spline")

with right:
    pb_key = f"ph_pb_{ss.get('ph_seq', 0)}"

    def _on_tap(pb_key: str = pb_key, current: str | None = current) -> None:
        click = take_click(pb_key)
        if click is not None and current is not None:
            ss["ph_taps"][current] = (float(click["x"]) * to_work, float(click["y"]) * to_work)

    pins = [(x / to_work, y / to_work) for x, y in taps.values()]
    pinboard(key=pb_key, image_url=data_url, width_px=disp_size[0], height_px=disp_size[1], pins_px=pins,
             active=current is not None, hint=f"Tap the {atlas.landmarks[current].name}" if current else "",
             max_width_px=900, on_click=_on_tap)

# ---------------------------------------------------------------- fit and overlay
if len(taps) < MIN_LANDMARKS:
    st.info(f"Tap at least {MIN_LANDMARKS} landmarks to place the nerves ({len(taps)} so far).")
    st.stop()
try:
    report = fit_landmarks({k: landmarks[k] for k in order if k in taps}, taps, view.camera.px_per_cm)
except FitError as exc:
    st.error(f"The landmarks do not fit: {exc}. Undo the last tap or start over.")
    st.stop()

kind_name = {"tps": "thin-plate spline", "affine": "affine", "similarity": "similarity"}[report.transform.kind]
m1, m2, m3 = st.columns(3)
m1.metric("Transform", kind_name)
m2.metric("Fit error", f"{report.quality_cm:.2f} cm",
          help="Leave-one-out: each landmark predicted from the others, in cm on the body. "
               "Over about 1 cm, re-check the taps.")
m3.metric("Landmarks", len(report.ids))
if report.loo_cm:
    worst = max(range(len(report.ids)), key=lambda i: report.loo_cm[i])
    if report.loo_cm[worst] > 1.0:
        st.warning(f"{atlas.name_of(report.ids[worst])} disagrees with the others by {report.loo_cm[worst]:.1f} cm: "
                   "was it tapped in the right place?")

layers = st.multiselect("Draw", ["nerves", "sites", "avoid"], default=["avoid", "nerves", "sites"], key="ph_layers",
                        format_func={"nerves": "Nerve courses", "sites": "Sites", "avoid": "Structures to avoid"}.get)
title = f"{atlas.regions[view.region].name}, {atlas.views[view.view_id].side} side: nerves on the model"
# Drawing and PNG-encoding a large photo takes a moment: do it once per set of inputs.
stamp = (ss.get("ph_digest"), view.key, tuple(sorted(taps.items())), tuple(layers))
if ss.get("ph_handout_stamp") != stamp:
    handout = photo_handout(photo, view, atlas, report, taps, title, layers)
    preview = handout.copy()
    preview.thumbnail((1400, 1400))
    ss["ph_handout"] = (to_png_bytes(handout), to_jpeg_bytes(preview, quality=85))
    ss["ph_handout_stamp"] = stamp
png_bytes, preview_jpeg = ss["ph_handout"]
st.image(preview_jpeg, caption="The handout (photo, overlay, legend and scale)", width="stretch")
st.download_button("Download handout (PNG)", png_bytes, file_name=f"{view.view_id}-handout.png",
                   mime="image/png", type="primary", key="ph_download")

positions = fitted_positions(view, atlas, report.transform)
st.caption("Fitted positions on the photo (pixels of the photo as processed), for checking:")
st.code(json.dumps({"photo_size_px": list(photo.size), "kind": report.transform.kind,
                    "fit_error_cm": round(report.quality_cm, 3), "positions_px": positions}), language="json")

# ---------------------------------------------------------------- consent to keep
keep = st.checkbox("Keep this photo on this server (in the data folder) so I can reopen it", key="ph_keep")
stem = ss.get("ph_digest") or "photo"
target = current().photo_dir / f"{stem}.jpg"
if keep:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(work_bytes)
        target.with_suffix(".json").write_text(json.dumps({"view": view.view_id, "taps": taps}))
        st.caption(f"Kept as {Path(target).name}. Untick to delete it.")
    except (OSError, TrainerError) as exc:
        st.error(f"Could not keep the photo: {exc}")
elif target.exists():
    target.unlink(missing_ok=True)
    target.with_suffix(".json").unlink(missing_ok=True)
    st.caption("The kept copy was deleted.")
if st.button("Forget this photo now", key="ph_forget"):
    for k in ("ph_work", "ph_taps", "ph_digest", "ph_error", "ph_skipped", "ph_handout", "ph_handout_stamp", "ph_cache"):
        ss.pop(k, None)
    st.rerun()
