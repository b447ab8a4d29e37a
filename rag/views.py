"""Documents pages: upload several files, live status, a document's chunks, search, and
the passage a citation points at. Thin: the rules live in rag.services and rag.retrieval."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.errors import DomainError
from rag.extraction import FILE_TYPES
from rag.models import Document
from rag.retrieval import search
from rag.selectors import chunk_get, chunk_list, document_get, document_list
from rag.services import document_deletable_by, document_delete, document_upload

DOCUMENTS_PER_PAGE = 50
CHUNKS_PER_PAGE = 50
SEARCH_RESULTS = 10
FINAL = {Document.Status.READY, Document.Status.FAILED}


@dataclass
class UploadResult:
    name: str
    document: Document | None = None
    error: DomainError | None = None


def _upload_files(request) -> list[UploadResult]:
    """Each file through document_upload; a refused file keeps the service's message."""
    results = []
    for upload in request.FILES.getlist("file"):
        try:
            document = document_upload(user=request.user, filename=upload.name, data=upload.read(),
                                       tags=request.POST.get("tags", ""))
            results.append(UploadResult(name=upload.name, document=document))
        except DomainError as error:
            results.append(UploadResult(name=upload.name, error=error))
    return results


def _table_context(request) -> dict:
    page = Paginator(document_list().select_related("uploaded_by"), DOCUMENTS_PER_PAGE).get_page(
        request.GET.get("page"))
    return {
        "page": page,
        "deletable": {document.id for document in page if document_deletable_by(document=document,
                                                                                user=request.user)},
        "polling": any(document.status not in FINAL for document in page),
    }


@login_required
@require_http_methods(["GET", "POST"])
def document_list_view(request):
    """The tenant's documents, the upload form and the search box. A POST (the form
    without JavaScript) uploads every chosen file and shows what became of each."""
    results = None
    if request.method == "POST":
        results = _upload_files(request)
        if not results:
            results = [UploadResult(name="", error=DomainError("Choose at least one file to upload."))]
    return render(request, "rag/document_list.html", {
        **_table_context(request), "results": results, "file_types": [f".{extension}" for extension in FILE_TYPES]})


@login_required
@require_GET
def document_table_view(request):
    """The documents table alone: htmx polls it while a document is not ready or failed."""
    return render(request, "rag/_document_table.html", _table_context(request))


@login_required
@require_POST
def document_upload_view(request):
    """What documents.js posts, one file per request (so each file has its own progress):
    the outcome as a fragment, with the refusal's status code when refused."""
    results = _upload_files(request) or [
        UploadResult(name="", error=DomainError("Choose at least one file to upload."))]
    refused = [result.error for result in results if result.error is not None]
    status = 202 if not refused else refused[0].status_code
    return render(request, "rag/_upload_results.html", {"results": results}, status=status)


def _document_or_404(document_id: int) -> Document:
    document = document_get(document_id=document_id)
    if document is None:
        raise Http404(f"There is no document {document_id}.")
    return document


@login_required
@require_GET
def document_detail_view(request, document_id: int):
    document = _document_or_404(document_id)
    chunks = Paginator(chunk_list(document_id=document.id), CHUNKS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "rag/document_detail.html", {
        "document": document, "chunks": chunks, "final": document.status in FINAL,
        "can_delete": document_deletable_by(document=document, user=request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def document_delete_view(request, document_id: int):
    """GET asks for confirmation; POST deletes (members their own uploads, admins anything)."""
    document = _document_or_404(document_id)
    can_delete = document_deletable_by(document=document, user=request.user)
    error, status = None, 200 if can_delete else 403
    if request.method == "POST":
        try:
            document_delete(document_id=document.id, user=request.user)
            messages.success(request, f"Deleted {document.title}.")
            return redirect("document-list")
        except DomainError as exc:
            error, status = exc, exc.status_code
    return render(request, "rag/document_delete.html", {"document": document, "can_delete": can_delete,
                                                         "error": error}, status=status)


def _query_words(query: str) -> list[str]:
    return re.findall(r"\w[\w'-]*", query)


@login_required
@require_GET
def document_search_view(request):
    query = request.GET.get("q", "").strip()
    error, result = None, None
    if query:
        if not 2 <= len(query) <= 2000:
            error = "Type between 2 and 2,000 characters to search."
        else:
            result = search(query=query, k=SEARCH_RESULTS, purpose=f"web:{request.user.pk}")
    return render(request, "rag/document_search.html", {
        "query": query, "words": _query_words(query), "result": result, "error": error,
    }, status=400 if error else 200)


@login_required
@require_GET
def passage_view(request, chunk_id: int):
    """The passage a citation (C<chunk id>) points at, with the cited words marked."""
    chunk = chunk_get(chunk_id=chunk_id)
    if chunk is None:
        raise Http404(f"There is no passage {chunk_id}.")
    query = request.GET.get("q", "")[:2000]
    return render(request, "rag/passage.html", {"chunk": chunk, "query": query, "words": _query_words(query)})
