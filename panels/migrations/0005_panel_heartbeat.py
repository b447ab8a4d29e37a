from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('panels', '0004_panel_templates'),
    ]

    operations = [
        migrations.AddField(
            model_name='panel',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
