"""Hostile documents (issue 18): a file whose extension lies is refused at upload and
nothing is written; decompression bombs, huge page counts and entity bombs fail with a
reason; a file that needs too much memory or time is stopped in its own process.
The worker surviving them all is tests/rag/test_hostile_documents_worker.py."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from rag.extraction import (
    ExtractionError,
    Limits,
    content_check,
    extract_text,
    extract_upload,
)
from rag.models import Document
from tests.conftest import page_client
from tests.factories import make_document
from tests.rag.files import (
    HTML,
    make_docx,
    make_entity_docx,
    make_flate_bomb_pdf,
    make_huge_paragraph_docx,
    make_many_pages_pdf,
    make_nul_text_pdf,
    make_pdf,
    make_slow_pdf,
    make_zip_bomb_docx,
)

NOTE = b"Outcomes-based agreements tie the price of a therapy to real-world response rates."
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"


def xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


LIES = [  # (name, content, what it looks like)
    ("report.pdf", lambda: make_docx([("Not a PDF at all.", None)]), "docx"),
    ("report.pdf", lambda: NOTE, "text"),
    ("notes.docx", lambda: make_pdf(["A PDF in disguise."]), "pdf"),
    ("budget.docx", xlsx, "xlsx"),
    ("photo.txt", lambda: PNG, "png"),
    ("page.md", lambda: HTML, "html"),
    ("page.html", lambda: make_pdf(["A PDF in disguise."]), "pdf"),
    ("data.txt", lambda: b"x" * 5000 + b"\x00\x01\x02", "binary"),  # a NUL past the first 4 KB too
    ("legacy.txt", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "ole"),
    ("archive.md", lambda: b"\x1f\x8b\x08\x00" + b"\x00" * 20, "gzip"),
]


@pytest.mark.parametrize("name, make, looks_like", LIES, ids=[f"{name}-{kind}" for name, _, kind in LIES])
def test_a_file_whose_extension_lies_is_refused_at_upload_and_nothing_is_written(
        alpha_api, media_root, name, make, looks_like):
    response = alpha_api.post("/api/v1/documents/", {"file": SimpleUploadedFile(name, make())}, format="multipart")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "file_type_mismatch"
    assert error["details"] == {"extension": f".{name.rsplit('.', 1)[1]}", "looks_like": looks_like}
    assert error["message"].startswith(f"'{name}' is named .{name.rsplit('.', 1)[1]} but its content looks like ")
    with schema_context("alpha"):
        assert not Document.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]


@pytest.mark.parametrize("name, make", [
    ("note.txt", lambda: NOTE), ("note.md", lambda: "# Café\n\nPrix négociés.".encode("cp1252")),
    ("page.html", lambda: HTML), ("fragment.htm", lambda: b"Plain words are fine in an HTML file."),
    ("report.pdf", lambda: make_pdf(["Real PDF."])), ("memo.docx", lambda: make_docx([("Real Word.", None)])),
])
def test_a_file_that_is_what_its_extension_says_passes(name, make):
    content_check(filename=name, extension=name.rsplit(".", 1)[1], data=make())


@pytest.mark.parametrize("path, status", [("/documents/", 200), ("/documents/upload/", 400)])
def test_the_upload_page_refuses_a_lying_file_with_the_same_message(alpha, member, media_root, path, status):
    response = page_client(alpha, member).post(path, {"file": SimpleUploadedFile("scan.pdf", PNG)})
    page = response.content.decode()
    assert response.status_code == status and 'data-outcome="refused"' in page
    assert "&#x27;scan.pdf&#x27; is named .pdf but its content looks like a PNG image" in page
    with schema_context("alpha"):
        assert not Document.objects.exists()
    assert not [path for path in media_root.rglob("*") if path.is_file()]


def limits(**changes) -> Limits:
    return Limits(**{**vars(Limits.from_settings()), **changes})


def test_the_limits_come_from_settings(settings):
    settings.RAG_MAX_PAGES = 7
    assert Limits.from_settings().max_pages == 7


def test_a_flate_bomb_pdf_fails_with_the_expansion_limit_in_the_reason():
    bomb = make_flate_bomb_pdf()  # 2 MB that inflate to 2 GiB
    assert len(bomb) < 3_000_000
    with pytest.raises(ExtractionError, match="expands to more than 50 MB when decompressed"):
        extract_text(bomb, "pdf", limits(max_expanded_mb=50))


def test_a_zip_bomb_docx_fails_with_the_expansion_limit_in_the_reason():
    bomb = make_zip_bomb_docx()  # 1 MB that unzips to 1 GiB
    assert len(bomb) < 2_000_000 and zipfile.ZipFile(io.BytesIO(bomb)).getinfo("word/document.xml").file_size == 2**30
    with pytest.raises(ExtractionError, match="expands to more than 50 MB when unzipped"):
        extract_text(bomb, "docx", limits(max_expanded_mb=50))


def test_an_entity_declaring_docx_is_not_parsed():
    with pytest.raises(ExtractionError, match="declares XML entities"):
        extract_text(make_entity_docx(), "docx")


def test_a_pdf_with_10000_pages_is_refused_with_the_page_limit():
    with pytest.raises(ExtractionError, match="The PDF has 10,000 pages; at most 2,000 pages are read"):
        extract_text(make_many_pages_pdf(10_000), "pdf", limits(max_pages=2000))


def test_a_pdf_that_understates_its_page_count_is_counted_for_real():
    lying = make_many_pages_pdf(5, declared_count=1)
    with pytest.raises(ExtractionError, match="The PDF has 5 pages; at most 3 pages are read"):
        extract_text(lying, "pdf", limits(max_pages=3))
    assert extract_text(lying, "pdf", limits(max_pages=5)).page_count == 5


@pytest.mark.parametrize("extension, make", [
    ("txt", lambda: b"word " * 300), ("html", lambda: b"<p>" + b"word " * 300 + b"</p>"),
    ("pdf", lambda: make_pdf(["word " * 100] * 3)), ("docx", lambda: make_docx([("word " * 100, None)] * 3)),
])
def test_text_beyond_the_character_limit_is_refused(extension, make):
    with pytest.raises(ExtractionError, match="more than 1,000 characters of text"):
        extract_text(make(), extension, limits(max_characters=1000))


def test_a_file_that_needs_too_much_memory_is_stopped_in_its_own_process():
    with pytest.raises(ExtractionError, match="needed more than 160 MB of memory, so it was stopped"):
        extract_upload(make_huge_paragraph_docx(), "docx", limits(memory_mb=160, max_characters=10**9))


def test_a_file_that_takes_too_long_is_stopped_in_its_own_process():
    with pytest.raises(ExtractionError, match=r"(took longer than|more than) 2 s.*so it was stopped"):
        extract_upload(make_slow_pdf(), "pdf", limits(seconds=2))


def test_a_normal_file_reads_the_same_in_its_own_process():
    pdf = make_pdf(["Page one talks about PSUR timelines.", "Page two covers REMS elements."])
    isolated, inline = extract_upload(pdf, "pdf"), extract_text(pdf, "pdf")
    assert (isolated.text, isolated.page_starts) == (inline.text, inline.page_starts)
    assert isolated.page_at(isolated.text.index("REMS")) == 2


def test_nul_characters_in_a_pdfs_text_are_dropped_so_its_chunks_can_be_stored(alpha, media_root):
    document = make_document(alpha, "nul.pdf", make_nul_text_pdf())
    assert document.status == "ready"
    with schema_context("alpha"):
        assert [chunk.text for chunk in document.chunks.all()] == ["Zebrafish assays"]
