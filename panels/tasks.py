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
