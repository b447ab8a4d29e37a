"""LLMCall now belongs to the llm app (llm/migrations/0001_initial.py takes its table)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('agents_tenant', '0002_agentpreferences_agentusage'),
        ('llm', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name='LLMCall')]),
    ]
