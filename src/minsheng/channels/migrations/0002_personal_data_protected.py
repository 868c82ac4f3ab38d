"""Personal data in the channels' records protected as on cases: attendees' names and the
places of forum issues encrypted, a blind index beside every phone (a resident's erasure
request finds their answers, notes, issues and visits by it), a contact phone on a visit, and
the time each record's personal data was erased (retention and erasure requests).

The data step encrypts the values already there, computes the indexes, and re-keys the
"one answer per phone" limits on the phone's blind index (they were keyed with SECRET_KEY).
Its reverse writes the newly encrypted values back as plain text.
"""

import minsheng.core.fields
from django.db import migrations, models

BATCH = 1000
#: model → (columns newly encrypted here, phone column with a blind index beside it)
_TABLES = {
    "forumattendee": (("name",), None),
    "forumissue": (("address",), "phone"),
    "suggestionnote": ((), "phone"),
    "surveyresponse": ((), "phone"),
}


def _batches(model):
    last = 0
    while True:
        rows = list(model.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def protect_existing(apps, schema_editor):
    from minsheng.core import crypto

    phone_limited = set(apps.get_model("channels", "survey").objects.filter(answer_limit="phone").values_list("pk", flat=True))
    for model_name, (fields, phone) in _TABLES.items():
        model = apps.get_model("channels", model_name)
        for rows in _batches(model):
            updated = list(fields)
            if phone:
                updated.append("phone_index")
                for row in rows:
                    row.phone_index = crypto.blind_index(getattr(row, phone) or "")
            if model_name == "surveyresponse":
                updated.append("limit_key")
                for row in rows:
                    if row.survey_id in phone_limited and row.limit_key and row.phone_index:
                        row.limit_key = "p:" + row.phone_index
            if updated:
                # bulk_update writes through the fields, which encrypt.
                model.objects.bulk_update(rows, updated)


def unprotect(apps, schema_editor):
    connection = schema_editor.connection
    quote = schema_editor.quote_name
    for model_name, (fields, _phone) in _TABLES.items():
        if not fields:
            continue
        model = apps.get_model("channels", model_name)
        table = quote(model._meta.db_table)
        assignments = ", ".join(f"{quote(f)} = %s" for f in fields)
        with connection.cursor() as cursor:
            for rows in _batches(model):
                # Raw SQL: the fields would encrypt again on the way in.
                cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s",
                                   [[getattr(row, f) or "" for f in fields] + [row.pk] for row in rows])


class Migration(migrations.Migration):

    dependencies = [
        ('channels', '0001_channels_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='forum',
            name='personal_data_erased_at',
            field=models.DateTimeField(blank=True, help_text="When the attendees' names were erased (retention).", null=True),
        ),
        migrations.AddField(
            model_name='forumissue',
            name='personal_data_erased_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='forumissue',
            name='phone_index',
            field=minsheng.core.fields.BlindIndexField(db_index=True, max_length=64, source='phone'),
        ),
        migrations.AddField(
            model_name='importbatch',
            name='personal_data_erased_at',
            field=models.DateTimeField(blank=True, help_text="When the rows' names, phones and addresses were dropped.", null=True),
        ),
        migrations.AddField(
            model_name='suggestionnote',
            name='personal_data_erased_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='suggestionnote',
            name='phone_index',
            field=minsheng.core.fields.BlindIndexField(db_index=True, max_length=64, source='phone'),
        ),
        migrations.AddField(
            model_name='surveyresponse',
            name='personal_data_erased_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='surveyresponse',
            name='phone_index',
            field=minsheng.core.fields.BlindIndexField(db_index=True, help_text="Keyed hash of the phone: finds a resident's answers for an erasure request.", max_length=64, source='phone'),
        ),
        migrations.AddField(
            model_name='visit',
            name='personal_data_erased_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='visit',
            name='phone',
            field=minsheng.core.fields.EncryptedTextField(blank=True, max_length=20, verbose_name='联系电话'),
        ),
        migrations.AddField(
            model_name='visit',
            name='phone_index',
            field=minsheng.core.fields.BlindIndexField(db_index=True, max_length=64, source='phone'),
        ),
        migrations.AlterField(
            model_name='forumattendee',
            name='name',
            field=minsheng.core.fields.EncryptedTextField(blank=True, max_length=60, verbose_name='姓名'),
        ),
        migrations.AlterField(
            model_name='forumissue',
            name='address',
            field=minsheng.core.fields.EncryptedTextField(blank=True, max_length=300, verbose_name='地点'),
        ),
        migrations.RunPython(protect_existing, unprotect),
    ]
