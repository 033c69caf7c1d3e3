"""Time to first render after a server start: ``python scripts/first_load.py [--runs N]``.

Starts ``streamlit run streamlit_app.py`` the way a user does (fresh process, empty data
dir), opens ``/`` in Debian's Chromium as soon as the health check answers, and reports, in
seconds from the process start: when the server answered, when the explorer's heading was on
screen (first page), and, opening the explorer next, when its figure was drawn. The first start uses an empty
data folder (cold: no atlas snapshot yet); the later ones reuse it. Prints JSON. A measurement,
not a test: the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402

# The first page (whatever "/" opens) is drawn: a page heading and nothing running any more.
FIRST_PAGE_DRAWN = (
    "() => !!document.querySelector('[data-testid=\"stMainBlockContainer\"] h1')"
    " && !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')"
    " && !document.querySelector('[data-testid=\"stSpinner\"]')"
)
FIGURE_DRAWN = (
    "() => { const gd = document.querySelector('.js-plotly-plot');"
    " return !!(gd && gd.layout && (gd.layout.images || []).length && gd.data && gd.data.length"
    " && gd.querySelector('image')); }"
)


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used: a figure the machine's load does not inflate."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(browser: object, tmp: Path) -> dict[str, float]:
    import os
    import subprocess

    port = free_port()
    env = dict(os.environ, TRAINER_DATA_DIR=str(tmp / "data"), PYTHONUNBUFFERED="1")
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "streamlit_app.py"), "--server.port", str(port)]
        + [
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
            if time.monotonic() - t0 > 60:
                raise RuntimeError("server did not start")
        t_health = time.monotonic() - t0
        page = browser.new_page(viewport={"width": 1366, "height": 800})  # type: ignore[attr-defined]
        page.goto(url + "/")
        page.wait_for_function(FIRST_PAGE_DRAWN, timeout=60000)
        t_first = time.monotonic() - t0
        cpu_first = cpu_s(proc.pid)
        t1 = time.monotonic()
        page.goto(url + "/explorer")
        page.wait_for_function(FIGURE_DRAWN, timeout=60000)
        t_explorer = time.monotonic() - t1
        page.close()
        return {
            "server_healthy_s": t_health,
            "first_render_s": t_first,
            "explorer_figure_after_s": t_explorer,
            "server_cpu_s_at_first_render": cpu_first,
            "server_cpu_s_after_explorer": cpu_s(proc.pid),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tmp = Path(tempfile.mkdtemp(prefix="first-load-"))  # one data folder for every run
        runs = [one_run(browser, tmp) for _ in range(args.runs + 1)]
        browser.close()
    cold, warm = runs[0], runs[1:]
    out: dict[str, object] = {k: round(statistics.median(r[k] for r in warm), 2) for k in warm[0]}
    out["after_health_s"] = round(
        statistics.median(r["first_render_s"] - r["server_healthy_s"] for r in warm), 2
    )
    out["cold"] = {k: round(v, 2) for k, v in cold.items()}
    out["runs"] = [{k: round(v, 2) for k, v in r.items()} for r in warm]
    out["method"] = (
        "seconds from spawning `streamlit run` (a fresh process each run) to: health check OK; the "
        "first page ('/') drawn (a heading, nothing running); then, opening /explorer, seconds until "
        "its figure with the body image is drawn. `cold` is the very first start on an empty data "
        "folder (reads the atlas YAML, then saves the snapshot); the other figures are the median of "
        "the later starts (snapshot present); after_health_s counts from the health check; server_cpu_s_* "
        "are the CPU seconds the server process had used by then (not inflated by other load)"
    )
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
