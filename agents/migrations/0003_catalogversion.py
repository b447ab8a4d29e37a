"""The catalog's version number, bumped by a trigger on every change to agents_agent
(see agents.models.CatalogVersion)."""

from django.db import migrations, models

BUMP = """
CREATE SEQUENCE public.agents_catalog_version_seq;
INSERT INTO public.agents_catalogversion (id, number) VALUES (1, nextval('public.agents_catalog_version_seq'));
CREATE FUNCTION public.agents_catalog_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.agents_catalogversion (id, number) VALUES (1, nextval('public.agents_catalog_version_seq'))
    ON CONFLICT (id) DO UPDATE SET number = EXCLUDED.number;
    RETURN NULL;
END $$;
CREATE TRIGGER agents_catalog_version_bump
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON public.agents_agent
    FOR EACH STATEMENT EXECUTE FUNCTION public.agents_catalog_version_bump();
"""

UNBUMP = """
DROP TRIGGER agents_catalog_version_bump ON public.agents_agent;
DROP FUNCTION public.agents_catalog_version_bump();
DROP SEQUENCE public.agents_catalog_version_seq;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('agents', '0002_agent_agent_embedding_hnsw'),
    ]

    operations = [
        migrations.CreateModel(
            name='CatalogVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunSQL(BUMP, UNBUMP),
    ]
