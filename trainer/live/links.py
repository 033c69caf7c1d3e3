"""The join URL learners open, the results link shared after the class, and their QR codes."""

from __future__ import annotations

import io
import re
from urllib.parse import urlencode, urlsplit


def base_url_from_page_url(page_url: str) -> str:
    """The app's base URL from the address of one of its pages (query and page name dropped).

    >>> base_url_from_page_url("http://192.168.1.20:8501/host?session=abc")
    'http://192.168.1.20:8501'
    >>> base_url_from_page_url("https://example.org/trainer/host")
    'https://example.org/trainer'
    """
    parts = urlsplit(page_url)
    path = re.sub(r"/[^/]*$", "", parts.path)
    return f"{parts.scheme}://{parts.netloc}{path}"


def join_url(base_url: str, join_code: str) -> str:
    """The address learners open (and the QR code encodes).

    >>> join_url("http://192.168.1.20:8501/", "K7PM3Q")
    'http://192.168.1.20:8501/join?code=K7PM3Q'
    """
    return f"{base_url.rstrip('/')}/join?{urlencode({'code': join_code})}"


def results_url(base_url: str, join_code: str) -> str:
    """The results link the host shares after the class: each learner's phone shows its own.

    >>> results_url("http://192.168.1.20:8501/", "K7PM3Q")
    'http://192.168.1.20:8501/results?code=K7PM3Q'
    """
    return f"{base_url.rstrip('/')}/results?{urlencode({'code': join_code})}"


def qr_png(text: str, box_px: int = 10) -> bytes:
    """A PNG QR code (medium error correction survives a projector's glare)."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_px, border=2)
    qr.add_data(text)
    qr.make(fit=True)
    image = qr.make_image(fill_color="black", back_color="white")
    buf = io.BytesIO()
    image.save(buf)  # the default (PIL) image factory writes PNG
    return buf.getvalue()
