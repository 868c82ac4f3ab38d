"""Appeal text made fit for the public (the board at /board/) and for the monthly briefing.

What a resident writes often carries what picks them out: their phone ("请打我电话138…"), an
ID number, the door they live behind (伊河路26号院3号楼2单元501室), their name, an e-mail.
`anonymise_text` removes all of it and keeps the problem and the place at street level:

    伊河路26号院3号楼2单元501室漏水，联系人张三13812345678
    → 伊河路**号院**号楼**单元**室漏水，联系人某某***

A number is replaced by ``**`` whatever its length, so the mask does not tell a 3-digit room
from a 4-digit one. Dates (11月5号), bus and metro lines (3号线) and the hotline (12345) stay.
Shortening comes last: cutting first could leave half a phone number behind the cut.
"""

from __future__ import annotations

import re
import unicodedata

NUMBER_MASK = "**"
CONTACT_MASK = "***"
NAME_MASK = "某某"

# Full-width digits and letters (１３８…, ＡＢ) are folded to ASCII first, so every rule below
# sees one alphabet.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)} | {code: code - 0xFEE0 for code in range(0xFF21, 0xFF3B)} | {
    code: code - 0xFEE0 for code in range(0xFF41, 0xFF5B)}

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# 18-digit resident ID (the last may be X) and the old 15-digit one.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
# The tracking code (yymmdd + 5 characters): it opens the resident's own page with the phone.
_TRACKING_CODE = re.compile(r"(?<![0-9A-Za-z])\d{6}[0-9A-Z]{5}(?![0-9A-Za-z])")
# Mobiles (with +86, spaces or dashes inside), landlines with an area code.
_PHONE = re.compile(
    r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)"
    r"|(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)"
)
# Whatever long number remains (a landline without area code, a bank card, a QQ number).
_LONG_NUMBER = re.compile(r"\d{7,}")
# 楼-单元-室 written with dashes: 3-2-501.
_DASHED_DOOR = re.compile(r"(?<![\d-])\d{1,3}-\d{1,2}-\d{2,4}(?![\d-])")

_CN_DIGITS = "零〇一二三四五六七八九十百"
# Units of an address finer than the road or the estate. Longer words first so 号院 is not
# read as 号 + 院. A floor (5楼) is masked too: with the building it names the door.
_DOOR_UNITS = "号院|号楼|号门|号铺|号|栋|幢|座|单元|室|户|层|楼|排|弄"
_DOOR_NUMBER = re.compile(rf"(\d+|(?<![A-Za-z])[A-Z]\d*)(\s*)({_DOOR_UNITS})")
# Chinese numerals only before words that cannot be anything but an address (三室两厅, 一户人家
# and 一楼大厅 are not doors).
_DOOR_NUMBER_CN = re.compile(rf"([{_CN_DIGITS}]+)(号院|号楼|栋|幢|单元)")
# A room number written straight after the building or entrance: 2单元501, 3号楼1102.
_ROOM_AFTER = re.compile(r"(单元|号楼|栋|幢|号院)(\s*)(\d{2,4})(?!\d)")
# A name written after a label and a colon or space: 姓名：王小明, 联系人 李四.
_LABELLED_NAME = re.compile(r"(姓名|联系人|报件人|反映人|诉求人|户主|业主)(\s*[:：]\s*|\s+)([\u4e00-\u9fff]{2,3})(?=$|[^\u4e00-\u9fff]|先生|女士|电话|手机|联系)")


def _door(match: re.Match) -> str:
    number, space, unit = match.groups()
    if unit == "号":
        text = match.string
        before, after = text[: match.start()], text[match.end(): match.end() + 1]
        # 11月5号 is a date, 3号线 a metro line, 2号机 a machine: not addresses.
        if before.endswith(("月", "年", "第")) or after in ("线", "机", "码", "文"):
            return match.group(0)
    return NUMBER_MASK + space + unit


def anonymise_text(text: str, *, names: tuple[str, ...] | list[str] = (), limit: int | None = None) -> str:
    """`text` without phones, ID numbers, e-mails, tracking codes, the given names (the
    reporter's and co-reporters') and exact house, building, entrance and room numbers;
    shortened to `limit` characters (plus "…") when given."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).translate(_FULL_WIDTH)
    for name in sorted({(n or "").strip() for n in names}, key=len, reverse=True):
        # One character would blank that character everywhere (李 in 李庄路); a name is two+.
        if len(name) >= 2:
            text = text.replace(name, NAME_MASK)
    text = _LABELLED_NAME.sub(lambda m: m.group(1) + m.group(2) + NAME_MASK, text)
    text = _EMAIL.sub(CONTACT_MASK, text)
    text = _ID_NUMBER.sub(CONTACT_MASK, text)
    text = _TRACKING_CODE.sub(CONTACT_MASK, text)
    text = _PHONE.sub(CONTACT_MASK, text)
    text = _LONG_NUMBER.sub(CONTACT_MASK, text)
    text = _DASHED_DOOR.sub(f"{NUMBER_MASK}-{NUMBER_MASK}-{NUMBER_MASK}", text)
    text = _ROOM_AFTER.sub(lambda m: m.group(1) + m.group(2) + NUMBER_MASK, text)
    text = _DOOR_NUMBER.sub(_door, text)
    text = _DOOR_NUMBER_CN.sub(lambda m: NUMBER_MASK + m.group(2), text)
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[:limit].rstrip() + "…"
    return text
