"""Residents' names, phones and addresses encrypted at rest, with a blind index and the last
four digits beside the phone; an optional ID number; the time personal data was erased.

The data step encrypts the rows already there, in batches. Its reverse writes them back as
plain text (the ID numbers, new here, are dropped with their column).
"""

import minsheng.core.fields
from django.db import migrations, models

BATCH = 1000
_TABLES = {
    "case": (("address", "reporter_name", "reporter_phone"), "reporter_phone", ("reporter_phone_index", "reporter_phone_last4")),
    "coreporter": (("name", "phone"), "phone", ("phone_index", "phone_last4")),
}


def _batches(model):
    last = 0
    while True:
        rows = list(model.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def encrypt_existing(apps, schema_editor):
    from minsheng.core import crypto

    for model_name, (fields, phone, (index, last4)) in _TABLES.items():
        model = apps.get_model("cases", model_name)
        for rows in _batches(model):
            for row in rows:
                number = getattr(row, phone) or ""
                setattr(row, index, crypto.blind_index(number))
                setattr(row, last4, "".join(ch for ch in number if ch.isdigit())[-4:])
            # bulk_update writes through the fields, which encrypt.
            model.objects.bulk_update(rows, [*fields, index, last4])


def decrypt_back(apps, schema_editor):
    connection = schema_editor.connection
    quote = schema_editor.quote_name
    for model_name, (fields, _phone, _derived) in _TABLES.items():
        model = apps.get_model("cases", model_name)
        table = quote(model._meta.db_table)
        assignments = ", ".join(f"{quote(f)} = %s" for f in fields)
        with connection.cursor() as cursor:
            for rows in _batches(model):
                # Raw SQL: the fields would encrypt again on the way in.
                cursor.executemany(
                    f"UPDATE {table} SET {assignments} WHERE id = %s",
                    [[getattr(row, f) or "" for f in fields] + [row.pk] for row in rows],
                )


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0003_feedback_resolved'),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='personal_data_erased_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='个人信息删除时间'),
        ),
        migrations.AddField(
            model_name='case',
            name='reporter_id_number',
            field=minsheng.core.fields.EncryptedTextField(blank=True, max_length=18, verbose_name='身份证号'),
        ),
        migrations.AddField(
            model_name='case',
            name='reporter_phone_index',
            field=minsheng.core.fields.BlindIndexField(db_index=True, help_text="Keyed hash of the phone: finds a caller's cases.", max_length=64, source='reporter_phone'),
        ),
        migrations.AddField(
            model_name='case',
            name='reporter_phone_last4',
            field=minsheng.core.fields.Last4Field(help_text="Checked with the tracking code on the resident's pages.", max_length=4, source='reporter_phone'),
        ),
        migrations.AddField(
            model_name='coreporter',
            name='phone_index',
            field=minsheng.core.fields.BlindIndexField(db_index=True, max_length=64, source='phone'),
        ),
        migrations.AddField(
            model_name='coreporter',
            name='phone_last4',
            field=minsheng.core.fields.Last4Field(max_length=4, source='phone'),
        ),
        migrations.AlterField(
            model_name='case',
            name='address',
            field=minsheng.core.fields.EncryptedTextField(blank=True, max_length=300, verbose_name='地址'),
        ),
        migrations.AlterField(
            model_name='case',
            name='reporter_name',
            field=minsheng.core.fields.EncryptedTextField(blank=True, max_length=100, verbose_name='姓名'),
        ),
        migrations.AlterField(
            model_name='case',
            name='reporter_phone',
            field=minsheng.core.fields.EncryptedTextField(blank=True, max_length=20, verbose_name='联系电话'),
        ),
        migrations.AlterField(
            model_name='coreporter',
            name='name',
            field=minsheng.core.fields.EncryptedTextField(blank=True, max_length=100),
        ),
        migrations.AlterField(
            model_name='coreporter',
            name='phone',
            field=minsheng.core.fields.EncryptedTextField(blank=True, max_length=20),
        ),
        migrations.RunPython(encrypt_existing, decrypt_back),
    ]
