"""Episode facts on acknowledgements, contacts and replies (cases/episodes.py), filled in for
the events already written by walking each case's events in order, as the engine now does
when it appends one."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


CASES_PER_BATCH = 2000
FIELDS = ["episode_at", "episode_unit_id", "due_at", "first_in_episode"]


def record_episode_facts(apps, schema_editor):
    from minsheng.cases.episodes import MEASURED_ACTIONS, EpisodeWalk

    alias = schema_editor.connection.alias
    CaseEvent = apps.get_model("cases", "CaseEvent")
    manager = CaseEvent.objects.db_manager(alias)
    case_ids = list(apps.get_model("cases", "Case").objects.using(alias).order_by("id").values_list("id", flat=True))
    # A range of cases at a time, read whole before any of it is written.
    for first in range(0, len(case_ids), CASES_PER_BATCH):
        chunk = case_ids[first:first + CASES_PER_BATCH]
        rows = list(
            manager.filter(case_id__gte=chunk[0], case_id__lte=chunk[-1])
            .order_by("case_id", "id")
            .values_list("id", "case_id", "action", "at", "unit_id", "data")
        )
        changed, case_id, walk = [], None, None
        for pk, case, action, at, unit_id, data in rows:
            if case != case_id:
                case_id, walk = case, EpisodeWalk()
            facts = walk.step(action, at, unit_id, data)
            if action in MEASURED_ACTIONS and facts.episode_at is not None:
                recorded = facts.as_fields()
                changed.append(CaseEvent(pk=pk, **{name: recorded[name] for name in FIELDS}))
        if changed:
            manager.bulk_update(changed, FIELDS, batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0006_event_action_unit_time_idx'),
        ('core', '0003_calendar_provisional'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='caseevent',
            name='event_action_time_unit_idx',
        ),
        migrations.AddField(
            model_name='caseevent',
            name='due_at',
            field=models.DateTimeField(blank=True, help_text='The deadline the event was held to.', null=True),
        ),
        migrations.AddField(
            model_name='caseevent',
            name='episode_at',
            field=models.DateTimeField(blank=True, help_text='The dispatch time of the episode the event belongs to.', null=True),
        ),
        migrations.AddField(
            model_name='caseevent',
            name='episode_unit',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, help_text="The unit the episode's dispatch went to.", null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='core.unit'),
        ),
        migrations.AddField(
            model_name='caseevent',
            name='first_in_episode',
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.RunPython(record_episode_facts, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='caseevent',
            index=models.Index(fields=['action', 'at', 'unit', 'case', 'id', 'due_at', 'first_in_episode', 'episode_at'], name='event_action_time_measure_idx'),
        ),
        migrations.AddIndex(
            model_name='caseevent',
            index=models.Index(fields=['action', 'episode_at', 'episode_unit', 'case', 'first_in_episode', 'at', 'due_at'], name='event_episode_response_idx'),
        ),
    ]
