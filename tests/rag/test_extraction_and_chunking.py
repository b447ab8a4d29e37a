"""Every supported file type becomes readable text; chunks respect headings, have exact
spans, stay within the token budget and overlap."""

import pytest

from rag.chunking import chunk_text, count_tokens
from rag.extraction import ExtractionError, UnsupportedFileType, extract_text, file_type
from tests.rag.files import HTML, make_docx, make_pdf


def test_plain_text_and_markdown():
    extracted = extract_text("Line one.\r\n\r\n\r\nLine   two.".encode(), "txt")
    assert extracted.text == "Line one.\n\nLine two." and extracted.page_count is None
    assert extract_text(b"# Title\n\nBody text.", "md").text.startswith("# Title")


def test_html_keeps_readable_text_and_headings_only():
    text = extract_text(HTML, "html").text
    assert "# Biosimilar tenders" in text and "## Uptake" in text
    assert "Hospital tenders in the Nordics" in text
    for hidden in ("never index me", "color:red", "Home | About", "Copyright"):
        assert hidden not in text


def test_pdf_text_layer_with_page_numbers():
    extracted = extract_text(make_pdf(["Page one talks about PSUR timelines.", "Page two covers REMS elements."]), "pdf")
    assert extracted.page_count == 2
    assert extracted.page_at(extracted.text.index("PSUR")) == 1
    assert extracted.page_at(extracted.text.index("REMS")) == 2


def test_docx_paragraphs_and_headings():
    data = make_docx([("Licensing terms", "Heading1"), ("Milestones are paid on approval.", None)])
    assert extract_text(data, "docx").text == "# Licensing terms\n\nMilestones are paid on approval."


@pytest.mark.parametrize(
    "data, extension, reason",
    [
        (b"%PDF-1.7 this is not really a pdf", "pdf", "could not be read"),
        (b"hello", "pdf", "not a PDF"),
        (b"PK\x03\x04broken", "docx", "could not be read"),
        (b"\x00\x01\x02binary", "txt", "binary data"),
        (b"   \n\n  ", "txt", "no readable text"),
    ],
)
def test_unreadable_files_say_why(data, extension, reason):
    with pytest.raises(ExtractionError, match=reason):
        extract_text(data, extension)


def test_pdf_without_text_layer_is_explained():
    with pytest.raises(ExtractionError, match="no text layer"):
        extract_text(make_pdf([""]), "pdf")


@pytest.mark.parametrize("name", ["slides.pptx", "data.csv", "noextension", "archive.zip"])
def test_unsupported_types_are_refused_with_the_supported_list(name):
    with pytest.raises(UnsupportedFileType) as refused:
        file_type(name)
    assert refused.value.status_code == 415 and ".pdf" in refused.value.message


LONG_DOC = "\n\n".join(
    ["# Guidance"]
    + [f"## Section {s}\n\n" + "\n\n".join(
        " ".join(f"Sentence {s}.{p}.{n} explains evidence requirement number {n} for payers." for n in range(6))
        for p in range(5))
       for s in range(3)]
)


def test_chunks_are_exact_spans_within_budget_and_never_cross_headings():
    from rag.extraction import ExtractedText

    extracted = ExtractedText(LONG_DOC)
    chunks = chunk_text(extracted, max_tokens=120, overlap_tokens=30)
    assert len(chunks) > 6
    for chunk in chunks:
        assert extracted.text[chunk.char_start:chunk.char_end] == chunk.text
        assert chunk.token_count == count_tokens(chunk.text) <= 120
        assert "#" not in chunk.text
        section = chunk.heading.split(" › ")[-1]
        assert chunk.text.startswith("Sentence " + section.split()[-1] + ".")
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_consecutive_chunks_of_a_section_overlap():
    from rag.extraction import ExtractedText

    chunks = chunk_text(ExtractedText(LONG_DOC), max_tokens=120, overlap_tokens=30)
    overlapping = [(a, b) for a, b in zip(chunks, chunks[1:]) if a.heading == b.heading]
    assert overlapping
    assert all(b.char_start < a.char_end for a, b in overlapping)


def test_chunk_boundaries_prefer_paragraph_ends():
    from rag.extraction import ExtractedText

    chunks = chunk_text(ExtractedText(LONG_DOC), max_tokens=120, overlap_tokens=0)
    ends_at_paragraph = [LONG_DOC[c.char_end:c.char_end + 2] in ("\n\n", "") for c in chunks]
    assert sum(ends_at_paragraph) / len(chunks) > 0.8
