from celery import shared_task

from tenants.tasks import TenantRequiredTask


@shared_task(base=TenantRequiredTask, name="rag.document_ingest", acks_late=True)
def document_ingest(document_id: int) -> str:
    from rag.services import document_process

    return document_process(document_id=document_id).status
