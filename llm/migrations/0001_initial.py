"""LLMCall moved here from agents_tenant: its table is taken over as it is (state only),
then renamed to this app's name, so every recorded call is kept."""

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('agents_tenant', '0002_agentpreferences_agentusage'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='LLMCall',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('purpose', models.CharField(db_index=True, help_text='e.g. "panel:12", "doctor"', max_length=100)),
                        ('provider', models.CharField(max_length=30)),
                        ('model', models.CharField(max_length=200)),
                        ('prompt_hash', models.CharField(db_index=True, max_length=64)),
                        ('input_tokens', models.PositiveIntegerField(default=0)),
                        ('output_tokens', models.PositiveIntegerField(default=0)),
                        ('cost', models.DecimalField(decimal_places=8, default=0, max_digits=14)),
                        ('latency_ms', models.PositiveIntegerField(default=0)),
                        ('outcome', models.CharField(max_length=30)),
                        ('attempts', models.PositiveSmallIntegerField(default=1)),
                        ('error', models.TextField(blank=True)),
                        ('request', models.JSONField(default=dict)),
                        ('response_text', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        'ordering': ['id'],
                        'db_table': 'agents_tenant_llmcall',
                    },
                ),
            ],
        ),
        migrations.AlterModelTable(name='llmcall', table=None),
    ]
