from django.db import migrations, models


class Migration(migrations.Migration):
    """A unit's events of one action in a period, read as one index range per unit (the
    dashboard's drill-down lists of a street or a department), where the (action, at, ...)
    index reads the whole district's period and filters it by unit."""

    dependencies = [
        ("cases", "0005_event_action_time_unit_idx"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="caseevent",
            index=models.Index(fields=["action", "unit", "at"], name="event_action_unit_time_idx"),
        ),
    ]
