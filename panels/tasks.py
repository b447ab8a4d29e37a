from celery import shared_task
from django.db import InterfaceError, OperationalError

from tenants.tasks import TenantRequiredTask

# The database went away under a run (a restart, a failover): the run is sent again, after
# 2, 4, 8 ... 60 s, and resumes at its first unfinished round (nothing is repeated). After
# the last retry the panel, still in a run state, is left to the heartbeat requeue.
DATABASE_LOST = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": 2, "retry_backoff_max": 60,
                 "retry_jitter": False, "max_retries": 10}


@shared_task(base=TenantRequiredTask, name="panels.run", acks_late=True, **DATABASE_LOST)
def panel_run_task(panel_id: int) -> str:
    from panels.orchestration.runner import panel_run

    return panel_run(panel_id=panel_id).status


@shared_task(base=TenantRequiredTask, name="panels.input_deadline", acks_late=True, **DATABASE_LOST)
def panel_input_deadline_task(panel_id: int) -> str:
    from panels.orchestration.runner import panel_input_deadline

    return panel_input_deadline(panel_id=panel_id).status


@shared_task(name="panels.requeue_stale")
def panels_requeue_stale() -> int:
    """Beat, every 30 s, in the public schema: enqueue again the panels, in every tenant,
    whose run stopped beating (its worker host died), instead of waiting for the broker's
    visibility timeout; how many were requeued."""
    from panels.orchestration.runner import panels_requeue_stale as requeue

    return requeue()
