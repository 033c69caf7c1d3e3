"""The Streamlit settings issue 11 relies on, as Streamlit itself reads them from .streamlit/config.toml:

* 14: ``client.showErrorDetails = "none"``: an exception no page caught reaches the browser
  as Streamlit's generic, redacted sentence (no message, type or trace; the legacy ``false``
  would still send the trace);
* 16: ``server.maxUploadSize`` is the largest upload the app accepts (a 15 MB photo), not more:
  Streamlit keeps uploads in memory for a browser session's life.
"""

from __future__ import annotations

import re
import subprocess
import sys

from tests.browser import REPO
from trainer.authoring.photo import MAX_UPLOAD_BYTES as MAX_PHOTO_BYTES
from trainer.authoring.questions import MAX_BANK_BYTES
from trainer.store.learner_file import MAX_IMPORT_BYTES

MIB = 1024 * 1024  # Streamlit's "megabytes" for maxUploadSize


def streamlit_config() -> dict[str, str]:
    """``streamlit config show`` run in the repository: the values a started server uses."""
    done = subprocess.run(
        [sys.executable, "-m", "streamlit", "config", "show"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(re.findall(r"^(\w+) = (.+)$", done.stdout, flags=re.MULTILINE))


def test_streamlit_sends_no_error_details_to_browsers() -> None:
    assert streamlit_config()["showErrorDetails"] == '"none"'


def test_the_upload_limit_is_the_largest_upload_the_app_accepts() -> None:
    limit_mb = int(streamlit_config()["maxUploadSize"])
    largest = max(MAX_PHOTO_BYTES, MAX_BANK_BYTES, MAX_IMPORT_BYTES)
    assert largest == MAX_PHOTO_BYTES == 15 * MIB
    assert limit_mb * MIB >= largest  # every upload the pages accept gets through…
    assert (limit_mb - 1) * MIB < largest  # …and not a megabyte more is held in memory
