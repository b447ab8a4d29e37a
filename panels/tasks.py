from celery import shared_task

from tenants.tasks import TenantRequiredTask


@shared_task(base=TenantRequiredTask, name="panels.run", acks_late=True)
def panel_run_task(panel_id: int) -> str:
    from panels.orchestration.runner import panel_run

    return panel_run(panel_id=panel_id).status


@shared_task(base=TenantRequiredTask, name="panels.input_deadline", acks_late=True)
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
