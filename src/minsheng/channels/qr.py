"""QR codes for the public links printed on posters (pure-Python qrcode, Pillow for the PNG)."""

from __future__ import annotations

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M


def qr_png(url: str, *, box_size: int = 10) -> bytes:
    """A PNG of the QR code for `url`, with a quiet zone, large enough to print on A4."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(url)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
