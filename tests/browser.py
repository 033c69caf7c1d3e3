"""Real-server, real-browser fixtures: Streamlit as a subprocess, Debian's Chromium via Playwright.

The server is started the way a user starts it (``streamlit run streamlit_app.py``) on a free
loopback port and polled on ``/_stcore/health`` until it answers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class AppServer:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    env: dict[str, str]
    log_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._close_log()

    def kill(self) -> None:
        """Abrupt stop, as a crash or power cut would do it."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._close_log()

    def _close_log(self) -> None:
        log = self.extra.pop("log_file", None)
        if log is not None:
            log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def start_app(
    tmp_dir: Path, env_extra: dict[str, str] | None = None, port: int | None = None, timeout_s: float = 60.0
) -> AppServer:
    port = port or free_port()
    env = dict(os.environ)
    env.update({"TRAINER_DATA_DIR": str(tmp_dir / "data"), "PYTHONUNBUFFERED": "1"})
    env.update(env_extra or {})
    log_path = tmp_dir / f"streamlit-{port}.log"
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "streamlit_app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = AppServer(f"http://127.0.0.1:{port}", port, proc, env, log_path, {"log_file": log})
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            server.stop()
            raise RuntimeError(f"streamlit exited early:\n{server.log()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"streamlit did not become healthy:\n{server.log()}")


def browser_available() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists()


def need_browser() -> None:
    if not browser_available():
        msg = f"Debian chromium ({CHROMIUM}) and playwright are needed for browser tests"
        if os.environ.get("TRAINER_REQUIRE_BROWSER") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    need_browser()
    server = start_app(tmp_path_factory.mktemp("app"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def wait_idle(page: Any, timeout_ms: int = 20000) -> None:
    """Wait until Streamlit has finished running the script (no 'running' indicator)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(
        '() => !document.querySelector(\'[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]\')'
        " && document.querySelector('[data-testid=\"stMainBlockContainer\"]')",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(300)


ARTIFACTS = REPO / "test-artifacts"


def screenshot(page: Any, name: str) -> bytes:
    ARTIFACTS.mkdir(exist_ok=True)
    data: bytes = page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)
    return data
