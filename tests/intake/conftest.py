"""Fixtures for the residents' pages."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from PIL import Image


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the cache; every test starts with none used."""
    cache.clear()
    yield
    cache.clear()


def jpeg_with_exif(size=(64, 48), make: str = "PhoneMaker") -> bytes:
    """A JPEG carrying EXIF the way a phone writes it: maker, model and GPS position."""
    exif = Image.Exif()
    exif[0x010F] = make  # Make
    exif[0x0110] = "Model X"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (34.0, 45.0, 1.5)  # GPSLatitudeRef, GPSLatitude
    buffer = io.BytesIO()
    Image.new("RGB", size, (180, 40, 40)).save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def png_bytes(size=(32, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 10)).save(buffer, "PNG")
    return buffer.getvalue()


def verify(client, case, last4: str | None = None):
    """Prove the appeal in this client's session, as a resident does on the tracking page."""
    return client.post("/track/", {"tracking_code": case.tracking_code, "phone_last4": case.phone_last4 if last4 is None else last4})


@pytest.fixture(autouse=True)
def _no_auto_dispatch(settings):
    """The resident pages are tested on their own: cases stay where intake leaves them
    (tests/dispatch covers automatic dispatch)."""
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 1.01
