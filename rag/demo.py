"""The demo corpus: seed_demo ingests a different subset for each demo tenant
(rag/demo_corpus/manifest.yaml), so tenant isolation is visible in search."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from rag.models import Document
from rag.services import document_process, document_upload

CORPUS_DIR = Path(__file__).resolve().parent / "demo_corpus"


def demo_manifest() -> dict[str, list[str]]:
    return yaml.safe_load((CORPUS_DIR / "manifest.yaml").read_text(encoding="utf-8"))


def _title(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    return first.lstrip("# ").strip() if first.startswith("#") else path.stem.replace("-", " ").title()


def demo_documents_seed(tenant) -> int:
    """Ingest (inline, no worker needed) the tenant's demo documents it does not have yet."""
    names = demo_manifest().get(tenant.schema_name, [])
    added = 0
    with schema_context(tenant.schema_name):
        owner = get_user_model().objects.filter(is_staff=True).order_by("id").first()
        for name in names:
            data = (CORPUS_DIR / name).read_bytes()
            if Document.objects.filter(checksum=hashlib.sha256(data).hexdigest()).exists():
                continue
            document = document_upload(user=owner, filename=name, data=data, title=_title(CORPUS_DIR / name),
                                       tags=["demo"], enqueue=False)
            document_process(document_id=document.id)
            added += 1
    return added
