"""HTTPS for a class with Streamlit's own TLS, exactly as docs/live-class.md ("HTTPS for a class")
tells an instructor: the documented openssl command, then the app started with the certificate.
The app answers over HTTPS (verified against that certificate), not over plain HTTP, and the
host page served over HTTPS shows no plain-HTTP warning."""

from __future__ import annotations

import http.client
import os
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, REPO, free_port, need_browser, wait_idle
from tests.test_live_support import HOST_KEY, LAPTOP, write_content

DOCS = (REPO / "docs" / "live-class.md").read_text(encoding="utf-8")


def documented_openssl_command(address: str) -> list[str]:
    """The openssl line of the docs, with the laptop's address replaced."""
    start = DOCS.index("openssl req -x509")
    line = DOCS[start : DOCS.index("trainer.crt", start) + len("trainer.crt")].replace("\\\n", " ")
    return line.replace("192.168.1.20", address).replace('"', "").split()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, dict[str, str]]]:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed (scripts/test.sh installs it)")
    tmp = tmp_path_factory.mktemp("tls")
    cmd = documented_openssl_command("127.0.0.1")
    assert cmd[:3] == ["openssl", "req", "-x509"] and "subjectAltName=IP:127.0.0.1" in cmd
    subprocess.run(cmd, cwd=tmp, check=True, capture_output=True, timeout=60)
    env_extra = write_content(tmp)
    port = free_port()
    env = dict(os.environ, **env_extra, TRAINER_DATA_DIR=str(tmp / "data"))
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 - closed below
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
            "--server.sslCertFile",
            str(tmp / "trainer.crt"),
            "--server.sslKeyFile",
            str(tmp / "trainer.key"),
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while _https_status(port, tmp / "trainer.crt") != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp / "server.log").read_text(errors="replace")[-3000:])
            time.sleep(0.3)
        yield port, tmp / "trainer.crt", env_extra
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def _https_status(port: int, cafile: Path) -> int | None:
    ctx = ssl.create_default_context(cafile=str(cafile))  # verifies the chain and the address
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=ctx)
    try:
        conn.request("GET", "/_stcore/health")
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def test_the_app_serves_https_with_the_documented_certificate_and_no_plain_http(
    tls_server: tuple[int, Path, dict[str, str]],
) -> None:
    port, cert, _ = tls_server
    assert _https_status(port, cert) == 200
    plain = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        with pytest.raises((http.client.HTTPException, OSError)):
            plain.request("GET", "/_stcore/health")
            plain.getresponse().read()
    finally:
        plain.close()


@pytest.mark.browser
def test_the_host_page_over_https_by_a_network_name_shows_no_plain_http_warning(
    tls_server: tuple[int, Path, dict[str, str]], chromium: Any
) -> None:
    need_browser()
    port, _, _ = tls_server
    # A network name (mapped to loopback, so no traffic leaves the machine): over http:// this
    # page would warn (tests/test_browser_security.py); over https:// it must not.
    args = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP venue-laptop.test 127.0.0.1"]
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
    try:
        ctx = browser.new_context(viewport=LAPTOP, ignore_https_errors=True)  # self-signed, as on the day
        page = ctx.new_page()
        page.goto(f"https://venue-laptop.test:{port}/host")
        wait_idle(page)
        page.get_by_label("Host key").fill(HOST_KEY)
        page.get_by_role("button", name="Open host controls").click()
        page.get_by_text("New class").wait_for(timeout=20000)
        assert page.url.startswith("https://venue-laptop.test")
        assert "plain HTTP" not in page.inner_text("body")
        ctx.close()
    finally:
        browser.close()
