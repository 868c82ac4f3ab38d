"""Checking and cleaning uploaded images before they are stored on a case.

Residents' phone photos carry EXIF metadata — GPS position, phone model, time taken — that
staff do not need and that must not travel with a case file. Every image is therefore decoded
and written out again from its pixels only: anything that is not a picture we can decode is
refused, and nothing but the pixels survives.
"""

from __future__ import annotations

import io
import warnings

from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

#: What Pillow calls the formats we accept, and the type each is stored as. MPO is what many
#: phone cameras write (a JPEG with extra frames); it is stored as a plain JPEG.
_ACCEPTED = {"JPEG": ("JPEG", "image/jpeg"), "MPO": ("JPEG", "image/jpeg"),
             "PNG": ("PNG", "image/png"), "WEBP": ("WEBP", "image/webp")}

ACCEPTED_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")

#: Refuse images above this many pixels before decoding them (a "decompression bomb": a small
#: file that unpacks to gigabytes). 50 megapixels is above any phone camera.
MAX_PIXELS = 50_000_000

#: Longest side kept. Phone photos are larger than anyone needs to see a pothole.
MAX_SIDE = 2560

_JPEG_QUALITY = 85


def image_reencode(data: bytes, *, max_side: int = MAX_SIDE) -> tuple[bytes, str]:
    """Decode an uploaded image and encode it again without metadata.

    Returns the new bytes and their content type (image/jpeg, image/png or image/webp).
    The picture is turned upright first (phones often store it sideways plus an EXIF
    orientation tag, which is about to be dropped), converted to sRGB when it carries a colour
    profile, and scaled down to `max_side`. Raises ValueError, with a message for the person
    who uploaded it, when the data is not a JPEG, PNG or WebP image that can be decoded.
    """
    image, source_format = _open_checked(data)
    target_format, content_type = _ACCEPTED[source_format]
    try:
        image = _upright_srgb(image)
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        return _encode(image, target_format), content_type
    except (OSError, ValueError, SyntaxError) as exc:
        raise ValueError(_("图片已损坏，无法读取。")) from exc


def _open_checked(data: bytes) -> tuple[Image.Image, str]:
    """Open the image after checking its format, size and integrity."""
    if not data:
        raise ValueError(_("文件是空的。"))
    source_format, pixels = _with_decode_errors(_probe, data)
    if source_format not in _ACCEPTED:
        raise ValueError(_("只能上传 JPEG、PNG 或 WebP 格式的图片。"))
    if pixels > MAX_PIXELS:
        raise ValueError(_("图片像素过大。"))
    return _with_decode_errors(_decode, data), source_format


def _probe(data: bytes) -> tuple[str, int]:
    """Format and pixel count from the header, then a structural check (no pixel decoding)."""
    with Image.open(io.BytesIO(data)) as probe:
        source_format, pixels = probe.format, probe.width * probe.height
        probe.verify()
    return source_format, pixels


def _decode(data: bytes) -> Image.Image:
    # verify() leaves an image unusable, so the pixels are decoded from a fresh open.
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _with_decode_errors(step, data: bytes):
    """Run a Pillow step, turning its many failure types into one ValueError for the uploader."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return step(data)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(_("这不是可识别的图片文件。")) from exc
    except (OSError, SyntaxError, EOFError, ValueError) as exc:
        raise ValueError(_("图片已损坏，无法读取。")) from exc


def _upright_srgb(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image)
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode)
        except (ImageCms.PyCMSError, OSError):
            pass  # an unreadable profile: keep the pixels as they are rather than refuse the photo
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode.upper().endswith("A") or "transparency" in image.info


def _encode(image: Image.Image, target_format: str) -> bytes:
    """Write the pixels only: a fresh image, so no EXIF, XMP, ICC or text chunk can follow."""
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    out = io.BytesIO()
    if target_format == "JPEG":
        clean.convert("RGB" if clean.mode == "RGBA" else clean.mode).save(out, "JPEG", quality=_JPEG_QUALITY, optimize=True)
    elif target_format == "PNG":
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "WEBP", quality=_JPEG_QUALITY)
    return out.getvalue()

