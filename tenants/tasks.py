"""The tenant-aware task base, and a probe task the doctor and tests use.

tenant-schemas-celery records the caller's schema in each task's headers and the worker
runs the task in it. A tenant-side task enqueued outside any tenant would run in public;
TenantRequiredTask refuses that at enqueue time and again at run time.
"""

from celery import shared_task
from django.db import connection
from tenant_schemas_celery.task import TenantTask

from tenants.context import TenantContextMissing


class TenantRequiredTask(TenantTask):
    abstract = True

    def apply_async(self, args=None, kwargs=None, *arguments, **options):
        if connection.schema_name == "public" and "_schema_name" not in (options.get("headers") or {}):
            raise TenantContextMissing(
                f"The task {self.name} belongs to a tenant but was enqueued outside one; "
                "enqueue it inside tenant_context(...) or a tenant request."
            )
        return super().apply_async(args, kwargs, *arguments, **options)

    def __call__(self, *args, **kwargs):
        if connection.schema_name == "public":
            raise TenantContextMissing(f"The task {self.name} ran without a tenant schema; it was not run.")
        return super().__call__(*args, **kwargs)


@shared_task(base=TenantRequiredTask, name="tenants.probe")
def tenant_probe() -> dict:
    """Reports the schema the worker ran it in (doctor and tests check it is the caller's)."""
    from django.contrib.auth import get_user_model

    return {"schema": connection.schema_name, "users": get_user_model().objects.count()}
