"""Residents' personal data at rest (PIPL): AES-GCM encryption, a keyed-hash blind index for
lookups, and the masks every screen shows by default.

Keys come from the environment, never from SECRET_KEY (a leaked session secret must not open
the data, and rotating one must not destroy the other):

- ``MINSHENG_DATA_KEYS``: comma-separated ``id:base64key`` pairs of 32-byte AES keys. The first
  encrypts; every listed key decrypts, so a new key can be put first and the old ones kept
  until ``minsheng rotate-keys`` has re-encrypted every row.
- ``MINSHENG_INDEX_KEY``: a separate 32-byte HMAC-SHA256 key for the blind index (the hash
  stored beside an encrypted phone so it can be found without decrypting every row).

A stored value reads ``ms1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``. The additional
authenticated data names the table and column, so a ciphertext copied into another column (or
another table) does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "ms1:"
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class DataKeyError(RuntimeError):
    """The configured keys are missing or malformed, or a value was written under a key that
    is no longer configured."""



@dataclass(frozen=True)
class Keyring:
    """The data keys (first one current) and the blind-index key."""

    keys: tuple[tuple[str, bytes], ...]
    index_key: bytes

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def key(self, key_id: str) -> bytes:
        for kid, key in self.keys:
            if kid == key_id:
                return key
        raise DataKeyError(f"数据密钥 {key_id!r} 未配置：请把它加入 MINSHENG_DATA_KEYS（可放在末尾，仅用于解密）。")


def _b64decode(text: str) -> bytes:
    text = text.strip()
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise DataKeyError("密钥不是合法的 base64 编码。") from exc


def parse_data_keys(raw: str) -> tuple[tuple[str, bytes], ...]:
    """``"k2:AAAA…,k1:BBBB…"`` → ((id, key), …), checking ids and key lengths."""
    keys: list[tuple[str, bytes]] = []
    for item in (raw or "").split(","):
        item = item.strip()
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise DataKeyError("MINSHENG_DATA_KEYS 的每一项应为 id:base64密钥（id 为1–16位字母、数字、-、_）。")
        key = _b64decode(encoded)
        if len(key) != 32:
            raise DataKeyError(f"数据密钥 {key_id!r} 应为32字节（AES-256），实际为{len(key)}字节。")
        if any(k == key_id for k, _ in keys):
            raise DataKeyError(f"数据密钥 id {key_id!r} 重复。")
        keys.append((key_id, key))
    if not keys:
        raise DataKeyError("MINSHENG_DATA_KEYS 为空。")
    return tuple(keys)


def parse_index_key(raw: str) -> bytes:
    key = _b64decode(raw or "")
    if len(key) < 32:
        raise DataKeyError("MINSHENG_INDEX_KEY 应至少为32字节（base64 编码）。")
    return key


def new_key_b64() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def generated_key_file(data_dir: Path) -> tuple[str, str]:
    """The embedded demo's keys, kept in (and created on first use in) its data folder.

    Production sets MINSHENG_DATA_KEYS and MINSHENG_INDEX_KEY instead (`minsheng check` warns
    when it does not): a key beside the database it protects protects little.
    """
    path = Path(data_dir) / "data_keys"
    if path.exists():
        values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
        return values["MINSHENG_DATA_KEYS"].strip(), values["MINSHENG_INDEX_KEY"].strip()
    data_keys = f"k{secrets.token_hex(2)}:{new_key_b64()}"
    index_key = new_key_b64()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"MINSHENG_DATA_KEYS={data_keys}\nMINSHENG_INDEX_KEY={index_key}\n")
    except FileExistsError:  # another process created it first: use theirs
        return generated_key_file(data_dir)
    return data_keys, index_key


@lru_cache(maxsize=8)
def _keyring(data_keys: str, index_key: str) -> Keyring:
    return Keyring(keys=parse_data_keys(data_keys), index_key=parse_index_key(index_key))


def keyring() -> Keyring:
    """The keys from the settings (cached per value, so `override_settings` in a test — or a
    rotation — takes effect at once)."""
    from django.conf import settings

    return _keyring(settings.MINSHENG_DATA_KEYS, settings.MINSHENG_INDEX_KEY)


# ---------------------------------------------------------------- encryption


def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt under the current key; `context` (table.column) is authenticated, not secret."""
    return encrypter(context=context)(plaintext)


def encrypter(*, context: str):
    """`encrypt` for many values of one column: the cipher and the key's prefix are made once
    (a bulk import encrypts hundreds of thousands of values)."""
    ring = keyring()
    cipher, prefix, associated = AESGCM(ring.keys[0][1]), f"{PREFIX}{ring.current_id}:", context.encode("utf-8")

    def seal(plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = cipher.encrypt(nonce, plaintext.encode("utf-8"), associated)
        return prefix + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    return seal


def is_encrypted(stored: str | None) -> bool:
    return bool(stored) and stored.startswith(PREFIX)


def key_id_of(stored: str) -> str | None:
    if not is_encrypted(stored):
        return None
    return stored[len(PREFIX):].split(":", 1)[0]


def decrypt(stored: str, *, context: str) -> str:
    """Decrypt a stored value. Raises DataKeyError when the key is unknown or the value was
    altered (AES-GCM authenticates it)."""
    from cryptography.exceptions import InvalidTag

    key_id, _, body = stored[len(PREFIX):].partition(":")
    blob = _b64decode(body)
    try:
        plain = AESGCM(keyring().key(key_id)).decrypt(blob[:12], blob[12:], context.encode("utf-8"))
    except InvalidTag as exc:
        raise DataKeyError(f"无法解密 {context}：数据被改动，或密钥 {key_id!r} 不对。") from exc
    return plain.decode("utf-8")


# ---------------------------------------------------------------- blind index

_MOBILE = re.compile(r"^1\d{10}$")


def normalise_phone(value: str) -> str:
    """The digits that identify a phone, however it was written: a mobile as its 11 digits
    (without +86), a landline as its last 8 (with or without the 0371 area code)."""
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    if digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if _MOBILE.match(digits):
        return digits
    if len(digits) < 7:
        return ""
    return digits[-8:]


def normalise_id_number(value: str) -> str:
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


_NORMALISERS = {"phone": normalise_phone, "id_number": normalise_id_number}


def blind_index(value: str, *, kind: str = "phone") -> str:
    """HMAC-SHA256 of the normalised value under the index key, hex; "" for no value.
    Equal inputs give equal hashes (that is the point), so only values with many possible
    inputs (phones, ID numbers) are indexed — never a yes/no or a small set."""
    norm = _NORMALISERS[kind](value)
    if not norm:
        return ""
    return hmac.new(keyring().index_key, f"{kind}:{norm}".encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- masks


def mask_phone(phone: str) -> str:
    """138****5678: the operator can tell two callers apart without learning the number."""
    phone = phone or ""
    if len(phone) >= 7:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * len(phone)


def mask_id_number(number: str) -> str:
    """4101**********1234 (the region of issue and the last four, as banks print it)."""
    number = (number or "").strip()
    if len(number) >= 9:
        return number[:4] + "*" * (len(number) - 8) + number[-4:]
    return "*" * len(number)


def mask_name(name: str) -> str:
    """张* / 欧** : the surname stays, so staff can say 张先生 on the phone."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


_DIGITS = re.compile(r"[0-9０-９]")


def mask_address(address: str) -> str:
    """The place stays, the numbers that pick out one household go: 伊河路26号院3号楼 →
    伊河路**号院*号楼. Routing and handling need the road or estate; the door needs a show."""
    return _DIGITS.sub("*", address or "")


_PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1\d{2}[- ]?\d{4}[- ]?\d{4}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def redact_text(text: str, *, names: tuple[str, ...] = ()) -> str:
    """Free text with phones, ID numbers and the given names blanked out (purge/erasure)."""
    if not text:
        return text
    text = _ID_IN_TEXT.sub("[已删除]", text)
    text = _PHONE_IN_TEXT.sub("[已删除]", text)
    for name in names:
        if name and len(name) >= 2:
            text = text.replace(name, "[已删除]")
    return text
