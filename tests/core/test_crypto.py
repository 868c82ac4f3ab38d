"""Personal data at rest: AES-GCM with keys from the settings, the blind index, the masks,
and the model fields that keep the ORM transparent."""

from __future__ import annotations

import base64

import pytest
from django.db import connection

from minsheng.cases.models import Case, CoReporter
from minsheng.cases import services
from minsheng.core import crypto

KEY_A = "a1:" + base64.urlsafe_b64encode(b"A" * 32).decode()
KEY_B = "b2:" + base64.urlsafe_b64encode(b"B" * 32).decode()


def raw(case: Case, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM cases_case WHERE id = %s", [case.pk])
        return cursor.fetchone()[0]


def test_a_value_round_trips_and_each_encryption_differs(settings):
    one = crypto.encrypt("13812345678", context="t.c")
    two = crypto.encrypt("13812345678", context="t.c")
    assert one != two and one.startswith("ms1:test1:")
    assert crypto.decrypt(one, context="t.c") == "13812345678"


def test_a_ciphertext_moved_to_another_column_does_not_decrypt():
    stored = crypto.encrypt("张三", context="cases.case.reporter_name")
    with pytest.raises(crypto.DataKeyError):
        crypto.decrypt(stored, context="cases.case.address")


def test_a_tampered_ciphertext_is_refused():
    stored = crypto.encrypt("张三", context="x")
    body = stored.rsplit(":", 1)[1]
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(crypto.DataKeyError):
        crypto.decrypt(stored.rsplit(":", 1)[0] + ":" + flipped, context="x")


def test_the_first_key_encrypts_and_every_listed_key_decrypts(settings):
    settings.MINSHENG_DATA_KEYS = KEY_A
    old = crypto.encrypt("x", context="c")
    settings.MINSHENG_DATA_KEYS = f"{KEY_B},{KEY_A}"
    assert crypto.key_id_of(crypto.encrypt("x", context="c")) == "b2"
    assert crypto.decrypt(old, context="c") == "x"
    settings.MINSHENG_DATA_KEYS = KEY_B
    with pytest.raises(crypto.DataKeyError, match="a1"):
        crypto.decrypt(old, context="c")


@pytest.mark.parametrize("bad", ["", "nokey", "a1:short", f"{KEY_A},{KEY_A}", "bad id!:" + KEY_A[3:]])
def test_malformed_keys_are_refused(bad):
    with pytest.raises(crypto.DataKeyError):
        crypto.parse_data_keys(bad)


def test_the_data_key_is_not_derived_from_the_secret_key(settings):
    before = crypto.encrypt("x", context="c")
    settings.SECRET_KEY = "something-else-entirely-" * 3
    assert crypto.decrypt(before, context="c") == "x"


def test_the_demo_generates_its_keys_once_into_its_data_folder(tmp_path):
    first = crypto.generated_key_file(tmp_path)
    assert crypto.generated_key_file(tmp_path) == first
    assert (tmp_path / "data_keys").stat().st_mode & 0o777 == 0o600
    crypto.parse_data_keys(first[0]) and crypto.parse_index_key(first[1])


def test_the_blind_index_matches_however_the_phone_was_written():
    same = {crypto.blind_index(p) for p in ("13812345678", "138-1234-5678", "+86 138 1234 5678", "008613812345678")}
    assert len(same) == 1 and "" not in same
    assert crypto.blind_index("0371-66668888") == crypto.blind_index("66668888")
    assert crypto.blind_index("13812345679") not in same
    assert crypto.blind_index("123") == ""


def test_the_blind_index_depends_on_its_own_key(settings):
    before = crypto.blind_index("13812345678")
    settings.MINSHENG_INDEX_KEY = base64.urlsafe_b64encode(b"I" * 32).decode()
    assert crypto.blind_index("13812345678") != before


@pytest.mark.parametrize("value, masked", [
    ("13812345678", "138****5678"), ("0371-66668888", "037******8888"), ("", ""),
])
def test_phone_mask(value, masked):
    assert crypto.mask_phone(value) == masked


def test_id_number_name_and_address_masks():
    assert crypto.mask_id_number("41010219900307123X") == "4101**********123X"
    assert crypto.mask_name("张三") == "张*" and crypto.mask_name("欧阳娜娜") == "欧***" and crypto.mask_name("") == ""
    assert crypto.mask_address("伊河路26号院3号楼2单元501") == "伊河路**号院*号楼*单元***"


def test_redaction_removes_phones_id_numbers_and_names():
    text = "我叫王小明，电话13812345678，身份证41010219900307123X，座机0371-66668888，楼下路灯坏了3天"
    cleaned = crypto.redact_text(text, names=("王小明",))
    for secret in ("王小明", "13812345678", "41010219900307123X", "66668888"):
        assert secret not in cleaned
    assert "路灯坏了3天" in cleaned


# ---------------------------------------------------------------- the model fields


def test_a_case_stores_personal_data_encrypted_and_reads_it_back(db):
    case = services.case_submit(text="楼道灯坏了一个月没人修", channel="web", address="伊河路26号院3号楼",
                                reporter_name="李四", reporter_phone="13912345678", reporter_id_number="410102199003071230")
    for column, plain in (("reporter_phone", "13912345678"), ("reporter_name", "李四"), ("address", "伊河路26号院3号楼"),
                          ("reporter_id_number", "410102199003071230")):
        stored = raw(case, column)
        assert stored.startswith("ms1:") and plain not in stored
    assert raw(case, "reporter_phone_last4") == "5678"
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.reporter_phone, fresh.reporter_name, fresh.address) == ("13912345678", "李四", "伊河路26号院3号楼")
    assert fresh.reporter_phone_index == crypto.blind_index("13912345678")


def test_an_encrypted_field_is_found_by_its_blind_index_and_refuses_other_lookups(db):
    case = services.case_submit(text="楼道灯坏了一个月没人修", channel="web", reporter_phone="13912345678", address="伊河路")
    assert list(Case.objects.filter(reporter_phone="139-1234-5678")) == [case]
    assert not Case.objects.filter(reporter_phone="13900000000").exists()
    assert Case.objects.filter(reporter_phone="").count() == Case.objects.count() - 1
    with pytest.raises(ValueError):
        list(Case.objects.filter(address="伊河路"))
    with pytest.raises(Exception):
        list(Case.objects.filter(address__icontains="伊河"))


def test_bulk_created_rows_get_their_index_too(db):
    Case.objects.bulk_create([Case(tracking_code="T1", text="测试诉求内容", reporter_phone="13700001111")])
    case = Case.objects.get(tracking_code="T1")
    assert case.reporter_phone_index == crypto.blind_index("13700001111") and case.reporter_phone_last4 == "1111"


def test_saving_the_phone_alone_keeps_its_index_in_step(db):
    case = services.case_submit(text="楼道灯坏了一个月没人修", channel="web", reporter_phone="13912345678")
    case.reporter_phone = "13700002222"
    case.save(update_fields=["reporter_phone"])
    assert Case.objects.get(pk=case.pk).reporter_phone_index == crypto.blind_index("13700002222")
    assert raw(case, "reporter_phone_last4") == "2222"


def test_a_malformed_id_number_is_refused(db):
    from minsheng.cases.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.case_submit(text="楼道灯坏了一个月没人修", channel="web", reporter_id_number="410102199003071234")


def test_co_reporters_are_encrypted_and_tracked_by_their_last4(db):
    from minsheng.cases.selectors import case_by_tracking

    case = services.case_submit(text="楼道灯坏了一个月没人修", channel="web", reporter_phone="13912345678")
    services.case_join(case=case, name="王五", phone="13600003333")
    co = CoReporter.objects.get(case=case)
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, name FROM cases_coreporter WHERE id = %s", [co.pk])
        phone, name = cursor.fetchone()
    assert phone.startswith("ms1:") and name.startswith("ms1:")
    assert case_by_tracking(tracking_code=case.tracking_code, phone_last4="3333") == case
    assert case_by_tracking(tracking_code=case.tracking_code, phone_last4="0000") is None
