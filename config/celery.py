"""The Celery app. tenant-schemas-celery carries the caller's schema in every task."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = CeleryApp("askpanel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
