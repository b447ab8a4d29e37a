from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        migrations.RunSQL("SELECT setval(pg_get_serial_sequence('auth_group', 'id'), 500)", migrations.RunSQL.noop),
    ]
