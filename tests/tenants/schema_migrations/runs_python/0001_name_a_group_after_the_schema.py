from django.db import migrations


def name_a_group_after_the_schema(apps, schema_editor):
    apps.get_model("auth", "Group").objects.create(name=schema_editor.connection.schema_name)


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(name_a_group_after_the_schema, migrations.RunPython.noop)]
