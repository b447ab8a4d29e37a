from django.db import migrations


class Migration(migrations.Migration):
    dependencies = []

    operations = [
        migrations.RunSQL("CREATE TABLE messages_note (id bigint PRIMARY KEY, body text NOT NULL)",
                          "DROP TABLE messages_note"),
    ]
