"""Model fields for residents' personal data. The ORM stays transparent: code reads and
writes plain strings; the database holds ciphertext (see crypto.py).

- `EncryptedTextField`: encrypted on the way in, decrypted on the way out. Only ``isnull`` and
  equality with "" may be looked up (an empty value is stored empty, so "has a phone" stays a
  cheap query); any other lookup raises instead of silently matching nothing — find rows by
  a `BlindIndexField` instead.
- `BlindIndexField` / `Last4Field`: derived from another field of the same row when the row
  is saved (``save()`` and ``bulk_create`` both call `pre_save`). ``QuerySet.update()`` and
  ``bulk_update()`` do not: code that changes the source that way sets them itself.
"""

from __future__ import annotations

from django.core import checks
from django.db import models
from django.db.models.lookups import Exact, IsNull

from . import crypto


class EncryptedTextField(models.TextField):
    description = "Text encrypted at rest (AES-GCM)"

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only)
        self.crypto_context = f"{cls._meta.label_lower}.{name}"

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        if crypto.is_encrypted(value):
            return crypto.decrypt(value, context=self.crypto_context)
        return value  # written before encryption was introduced; `rotate-keys` encrypts it

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value), context=self.crypto_context)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return IsNull
        if lookup_name == "exact":
            return EncryptedEmptyExact
        return None

    def get_transform(self, lookup_name):
        return None

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if self.db_index or self.unique:
            errors.append(checks.Error("An encrypted field cannot be indexed: index a BlindIndexField instead.", obj=self, id="minsheng.E101"))
        return errors


class EncryptedEmptyExact(Exact):
    """`field=""` works (empty values are stored empty). `field="x"` cannot compare
    ciphertexts (every encryption of "x" differs): where the row has a blind index of the
    field, it compares the index with the hash of "x" instead — so `reporter_phone=...` finds
    the same phone however it was written; elsewhere it raises rather than match nothing."""

    prepare_rhs = False  # keep the plain value: it is hashed, never encrypted, here

    def as_sql(self, compiler, connection):
        if self.rhs in ("", None):
            return super().as_sql(compiler, connection)
        target = self.lhs.target
        index_field = next((f for f in derived_fields(target.model) if isinstance(f, BlindIndexField) and f.source == target.name), None)
        if index_field is None:
            raise ValueError(f"{target.name} is encrypted and has no blind index: it cannot be looked up by value.")
        digest = crypto.blind_index(str(self.rhs), kind=index_field.kind) or "-"  # "-" matches no hash
        return compiler.compile(Exact(index_field.get_col(self.lhs.alias), digest))

    def get_db_prep_lookup(self, value, connection):
        return ("%s", [value])


class _DerivedField(models.CharField):
    """A column computed from another column of the same row when the row is saved."""

    def __init__(self, *args, source: str = "", **kwargs):
        self.source = source
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, default in (("blank", True), ("editable", False), ("default", "")):
            if kwargs.get(key, default) == default:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def derive(self, value: str) -> str:
        raise NotImplementedError

    def pre_save(self, model_instance, add):
        value = self.derive(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value


class BlindIndexField(_DerivedField):
    """HMAC of a normalised phone or ID number (crypto.blind_index): equal values, equal hash."""

    def __init__(self, *args, kind: str = "phone", **kwargs):
        self.kind = kind
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.kind != "phone":
            kwargs["kind"] = self.kind
        return name, path, args, kwargs

    def derive(self, value: str) -> str:
        return crypto.blind_index(value, kind=self.kind)


class Last4Field(_DerivedField):
    """The last four digits of a phone, in clear: a resident tracks an appeal with the code
    and these four digits, and four digits identify nobody."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 4)
        super().__init__(*args, **kwargs)

    def derive(self, value: str) -> str:
        digits = "".join(ch for ch in value if ch.isdigit())
        return digits[-4:]


def derived_update_fields(model, update_fields):
    """`update_fields` plus the derived columns of any source in it, for `Model.save`."""
    if update_fields is None:
        return None
    names = set(update_fields)
    for field in model._meta.concrete_fields:
        if isinstance(field, _DerivedField) and field.source in names:
            names.add(field.name)
    return names


def encrypted_fields(model) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def derived_fields(model) -> list[_DerivedField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, _DerivedField)]
