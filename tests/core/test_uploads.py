"""Uploaded images are decoded and written out again from their pixels only."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from minsheng.core.uploads import MAX_PIXELS, image_reencode


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def phone_photo(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = orientation
    exif.get_ifd(0x8825)[2] = (34.0, 45.0, 1.5)
    return encoded(Image.new("RGB", (40, 20), (200, 30, 30)), "JPEG", exif=exif.tobytes())


def test_it_drops_exif_including_the_gps_position():
    content, content_type = image_reencode(phone_photo())

    image = Image.open(io.BytesIO(content))
    assert content_type == "image/jpeg"
    assert not image.getexif()
    assert b"PhoneMaker" not in content


def test_it_turns_a_sideways_photo_upright_before_dropping_the_orientation_tag():
    content, _ = image_reencode(phone_photo(orientation=6))

    assert Image.open(io.BytesIO(content)).size == (20, 40)


def test_it_keeps_png_and_webp_as_they_are_and_png_transparency():
    transparent = Image.new("RGBA", (8, 8), (0, 0, 0, 0))

    png, png_type = image_reencode(encoded(transparent, "PNG", pnginfo=_text_chunk()))
    webp, webp_type = image_reencode(encoded(Image.new("RGB", (8, 8)), "WEBP"))

    assert (png_type, webp_type) == ("image/png", "image/webp")
    assert Image.open(io.BytesIO(png)).mode == "RGBA"
    assert b"secret-note" not in png
    assert Image.open(io.BytesIO(webp)).format == "WEBP"


def _text_chunk():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "secret-note")
    return info


def test_it_scales_down_very_large_photos():
    content, _ = image_reencode(encoded(Image.new("RGB", (3000, 1500)), "JPEG"), max_side=1000)

    assert Image.open(io.BytesIO(content)).size == (1000, 500)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "文件是空的。"),
        (b"%PDF-1.4 not a picture", "这不是可识别的图片文件。"),
        (encoded(Image.new("RGB", (8, 8)), "GIF"), "只能上传 JPEG、PNG 或 WebP 格式的图片。"),
        (phone_photo()[:200], "图片已损坏，无法读取。"),
    ],
)
def test_it_refuses_what_is_not_a_readable_jpeg_png_or_webp(data, message):
    with pytest.raises(ValueError, match=message):
        image_reencode(data)


def test_it_refuses_an_image_with_too_many_pixels_before_decoding_it():
    side = int(MAX_PIXELS**0.5) + 10
    huge = encoded(Image.new("1", (side, side)), "PNG")  # small file, huge canvas

    with pytest.raises(ValueError, match="图片像素过大。"):
        image_reencode(huge)
