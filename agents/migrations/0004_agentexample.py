"""Example questions of each agent, embedded; their writes change the catalog's version
like writes to agents_agent do (agents.models.CatalogVersion)."""

import django.db.models.deletion
import pgvector.django.vector
from django.db import migrations, models

BUMP = """
CREATE TRIGGER agents_catalog_version_bump
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON public.agents_agentexample
    FOR EACH STATEMENT EXECUTE FUNCTION public.agents_catalog_version_bump();
"""

UNBUMP = "DROP TRIGGER agents_catalog_version_bump ON public.agents_agentexample;"


class Migration(migrations.Migration):

    dependencies = [
        ('agents', '0003_catalogversion'),
    ]

    operations = [
        migrations.CreateModel(
            name='AgentExample',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('text', models.TextField()),
                ('embedding', pgvector.django.vector.VectorField(dimensions=384)),
                ('agent', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='examples', to='agents.agent')),
            ],
            options={
                'ordering': ['agent', 'id'],
            },
        ),
        migrations.RunSQL(BUMP, UNBUMP),
    ]
