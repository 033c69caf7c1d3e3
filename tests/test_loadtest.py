"""The load tool (issue 4 item 7): loopback guard, a real small run on SQLite through the command
line, and two app processes sharing PostgreSQL.

The runs use the synthetic content of tests/test_live_support.py (two locate questions on a flat
plane), so they do not depend on the atlas being edited concurrently.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.browser import REPO, AppServer, start_app
from tests.test_live_support import write_content
from trainer.cli import main
from trainer.tools.loadtest import MAX_PLAYERS, LoadConfig, LoadTestError, check_url, percentile, run_loadtest

REPORT_KEYS = {
    "players",
    "answers_sent",
    "answers_stored",
    "lost",
    "p95_answer_to_host_ms",
    "p95_player_rerun_ms",
    "server_cpu_ms_per_rerun",
    "config",
    "elapsed_s",
}


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org:8501",
        "http://10.0.0.5:8501",
        "http://192.168.1.20:8501/join",
        "http://localhost.example.org:8501",
        "http://8.8.8.8",
        "ftp://127.0.0.1:8501",
        "http://[2001:db8::1]:8501",
    ],
)
def test_non_loopback_urls_are_refused(url: str) -> None:
    with pytest.raises(LoadTestError):
        check_url(url)


@pytest.mark.parametrize(
    ("url", "ws"),
    [
        ("http://127.0.0.1:8501", "ws://127.0.0.1:8501/_stcore/stream"),
        ("http://localhost:8502/join", "ws://127.0.0.1:8502/_stcore/stream"),
        ("http://127.0.0.2:9000/trainer/", "ws://127.0.0.2:9000/trainer/_stcore/stream"),
        ("http://[::1]:8501", "ws://[::1]:8501/_stcore/stream"),
    ],
)
def test_loopback_urls_map_to_the_stream_endpoint(url: str, ws: str) -> None:
    assert check_url(url).ws_url == ws


def test_command_line_refuses_before_connecting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["loadtest", "--players", "3", "--url", "http://192.168.1.20:8501"]) == 2
    assert "loopback" in capsys.readouterr().err
    assert main(["loadtest", "--players", str(MAX_PLAYERS + 1), "--url", "http://127.0.0.1:8501"]) == 2
    with pytest.raises(LoadTestError):
        LoadConfig(players=3, urls=("http://127.0.0.1:1",), timeout_s=10_000).checked()


def test_rerun_cost_refuses_before_connecting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rerun-cost", "--url", "http://192.168.1.20:8501", "--runs", "5"]) == 2
    assert "loopback" in capsys.readouterr().err
    assert main(["rerun-cost", "--url", "http://127.0.0.1:1", "--runs", "0"]) == 2
    assert "--runs" in capsys.readouterr().err


def test_percentile_is_nearest_rank() -> None:
    assert percentile([5.0], 95) == 5.0
    assert percentile(list(range(1, 101)), 95) == 95


def _check_report(report: dict[str, object], players: int, questions: int) -> None:
    assert REPORT_KEYS <= set(report)
    assert report["players"] == players
    assert report["players_joined"] == players, report["error_samples"]
    assert report["answers_sent"] == players * questions, report["error_samples"]
    assert report["answers_stored"] == players * questions
    assert report["lost"] == 0
    assert report["errors"] == 0, report["error_samples"]
    for key in ("p95_answer_to_host_ms", "p95_player_rerun_ms", "server_cpu_ms_per_rerun"):
        value = report[key]
        assert isinstance(value, float) and 0 < value < 60_000, (key, value)
    assert report["answers_timed"] == players * questions
    # Phones wait on the class over HTTP and rerun their page only when it moved on: at least
    # one long poll and one such page run per phone, and no polling page runs at all.
    assert report["state_failures"] == 0, report["error_samples"]
    assert isinstance(report["state_requests"], int) and report["state_requests"] >= players
    runs = report["rerun_ms_by_kind"]
    assert isinstance(runs, dict) and runs["phase"]["n"] >= players and "poll" not in runs
    assert isinstance(report["p95_phase_seen_ms"], float) and report["p95_phase_seen_ms"] > 0
    assert (
        isinstance(report["p95_phase_told_ms"], float)
        and report["p95_phase_told_ms"] <= report["p95_phase_seen_ms"]
    )
    assert isinstance(report["elapsed_s"], float) and report["elapsed_s"] > 0
    assert report["players_saw_end"] == players


@pytest.fixture(scope="module")
def content_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The synthetic atlas and bank, written once (rendering it takes seconds)."""
    return write_content(tmp_path_factory.mktemp("loadtest-content"))


@pytest.mark.slow
def test_small_class_on_sqlite_through_the_command_line(tmp_path: Path, content_env: dict[str, str]) -> None:
    env = {**content_env, "TRAINER_DATA_DIR": str(tmp_path / "data")}
    server = start_app(tmp_path, env)
    try:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "trainer",
                "loadtest",
                "--players",
                "5",
                "--url",
                server.url,
                "--questions",
                "2",
                "--time-limit",
                "30",
                "--think",
                "0.2",
                "0.8",
                "--ramp",
                "0.5",
                "--timeout",
                "90",
                "--json",
            ],
            cwd=REPO,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=150,
        )
    finally:
        server.stop()
    assert out.returncode == 0, out.stderr[-3000:] + out.stdout[-3000:]
    report = json.loads(out.stdout)
    _check_report(report, players=5, questions=2)
    config = report["config"]
    assert config["database"] == "sqlite"
    assert config["processes"] == 1
    assert config["urls"] == [server.url]
    assert report["host"]["closed_by"] == ["all answered", "all answered"]


@pytest.mark.slow
def test_rerun_cost_measures_the_join_page_runs_and_the_class_state_request(
    tmp_path: Path, content_env: dict[str, str]
) -> None:
    env = {**content_env, "TRAINER_DATA_DIR": str(tmp_path / "data")}
    server = start_app(tmp_path, env)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "trainer", "rerun-cost", "--url", server.url, "--runs", "25", "--json"],
            cwd=REPO,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=150,
        )
    finally:
        server.stop()
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout)
    assert report["runs"] == 25
    for kind in ("whole_page", "answer_fragment", "class_state_request"):
        # Every run costs the server some CPU and takes some wall time; /proc has 10 ms ticks,
        # and 25 whole-page runs are well above one tick.
        assert report[kind]["wall_ms_per_run"] > 0, kind
        assert report[kind]["server_cpu_ms_per_run"] >= 0, kind
    assert report["whole_page"]["server_cpu_ms_per_run"] > 0


@pytest.mark.slow
@pytest.mark.postgres
def test_two_processes_sharing_postgresql(
    tmp_path: Path, pg_database_url: str, content_env: dict[str, str]
) -> None:
    env = {**content_env, "TRAINER_DATABASE_URL": pg_database_url}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with ThreadPoolExecutor(2) as pool:  # start both processes at once
        futures = [pool.submit(start_app, tmp_path / d, env) for d in ("a", "b")]
    servers: list[AppServer] = [f.result() for f in futures if f.exception() is None]
    try:
        assert len(servers) == 2, [str(f.exception()) for f in futures]
        report = run_loadtest(
            LoadConfig(
                players=4,
                urls=tuple(s.url for s in servers),
                questions=1,
                time_limit_s=30,
                database_url=pg_database_url,
                atlas_dir=Path(env["TRAINER_ATLAS_DIR"]),
                quiz_dir=Path(env["TRAINER_QUIZ_DIR"]),
                think_s=(0.2, 0.8),
                ramp_s=0.5,
                timeout_s=90,
                seed=4,
            )
        )
    finally:
        for server in servers:
            server.stop()
    _check_report(report, players=4, questions=1)
    assert report["config"]["database"] == "postgresql"
    assert report["config"]["processes"] == 2
    busy = [pid for pid, ms in report["server_cpu_ms_by_pid"].items() if ms > 0]
    assert len(busy) == 2  # players were spread over both processes
