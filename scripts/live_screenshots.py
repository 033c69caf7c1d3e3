"""Screenshots of a live class on the real atlas for the README (host heatmap, reveal, phone).

Starts the app on a throw-away data folder, runs a class through ``trainer.live.service`` with a
dozen simulated answers scattered around the target, and photographs the host's and one
phone's screens in headless Chromium (Debian's ``/usr/bin/chromium``). Usage::

    python scripts/live_screenshots.py docs/screenshots
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import sync_playwright

from trainer.atlas import load_atlas
from trainer.live import service as live
from trainer.quiz.bank import load_questions
from trainer.rules.classroom import LiveSettings
from trainer.settings import quiz_dir
from trainer.store import open_store

REPO = Path(__file__).resolve().parents[1]
KEY = "screenshot-host-key"
QUESTIONS = ["knee_loc_ipbsn_tendon", "ankle_ant_loc_sfn_exit"]
PORT = 8897


def wait_up(url: str) -> None:
    for _ in range(120):
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not start")


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="trainer-shots-"))
    env = {
        **os.environ,
        "TRAINER_DATA_DIR": str(data),
        "TRAINER_HOST_KEY": KEY,
        "TRAINER_BASE_URL": "http://192.168.1.20:8501",
    }
    atlas = load_atlas()
    questions = {q.id: q for q in load_questions(atlas, [quiz_dir()])}
    qids = [q for q in QUESTIONS if q in questions]
    store = open_store(data_dir=data)
    session = live.create_class(
        store,
        atlas,
        questions,
        title="Knee and ankle workshop",
        question_ids=qids,
        host_key=KEY,
        settings=LiveSettings(time_limit_s=600),
        side="right",
        body_type=atlas.default_body_type,
        now=datetime.now(UTC),
        rng=random.Random(7),
    )
    names = ["Ana", "Ben", "Chloé", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivo", "Jun", "Kofi", "Lea"]
    players = [live.join(store, session.join_code, n, datetime.now(UTC))[1] for n in names]
    live.open_next(store, session.id, datetime.now(UTC))
    view = live.question_view(atlas, session, 0)
    assert view is not None
    target = questions[qids[0]].targets[0]
    tx, ty = (float(v) for v in view.items[target].points_px[0])
    rng = random.Random(11)
    px, py = view.axes_px_per_cm["proximal"]  # image px for 1 cm towards proximal
    scale = (px * px + py * py) ** 0.5
    for i, p in enumerate(players[:-1]):
        # Most of the room about 2 cm distal, a few on target; 0.5 cm of scatter.
        distal_cm = 2.0 if i % 3 else 0.2
        pin = (
            tx - distal_cm * px + rng.gauss(0, 0.5 * scale),
            ty - distal_cm * py + rng.gauss(0, 0.5 * scale),
        )
        live.submit(store, atlas, questions, session.id, p.token, [pin], datetime.now(UTC))

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "streamlit_app.py",
            "--server.port",
            str(PORT),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{PORT}"
    try:
        wait_up(base)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            # A browser window on a larger screen: the host page hides pins while full screen.
            host = browser.new_page(
                viewport={"width": 1280, "height": 1450}, screen={"width": 1920, "height": 1600}
            )
            host.goto(f"{base}/host?session={session.id}")
            host.get_by_label("Host key").fill(KEY)
            host.get_by_role("button", name="Open host controls").click()
            host.get_by_text("11 answers").wait_for(timeout=60000)
            host.get_by_text("Peek at the class's pins (your screen only)").click()  # hidden by default
            host.get_by_text("Live heatmap · 11 answers").wait_for(timeout=60000)
            time.sleep(2)
            host.screenshot(path=str(out / "live_host_heatmap.png"))
            # The one player who has not answered yet, on a phone: the question with its countdown.
            lea = browser.new_page(
                viewport={"width": 390, "height": 844}, device_scale_factor=1, is_mobile=True, has_touch=True
            )
            lea.goto(f"{base}/join?token={players[-1].token}")
            lea.locator("text=/\\d+ s left/").first.wait_for(timeout=60000)
            time.sleep(2)
            lea.screenshot(path=str(out / "live_phone_question.png"))
            host.get_by_role("button", name="Close now").click()
            host.get_by_role("button", name="Reveal the answer").click()
            host.get_by_text("Mean error").wait_for(timeout=60000)
            # Her phone moves on by itself (the class watch), without a reload.
            lea.get_by_text("You did not answer this one.").wait_for(timeout=30000)
            time.sleep(2)
            host.screenshot(path=str(out / "live_host_reveal.png"))
            phone = browser.new_page(
                viewport={"width": 390, "height": 1250}, device_scale_factor=1, is_mobile=True, has_touch=True
            )
            phone.goto(f"{base}/join?token={players[1].token}")
            phone.get_by_text("Your rank").wait_for(timeout=60000)
            time.sleep(2)
            phone.screenshot(path=str(out / "live_phone_reveal.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(
        f"wrote {out}/live_host_heatmap.png, live_phone_question.png, live_host_reveal.png, live_phone_reveal.png"
    )


if __name__ == "__main__":
    main()
