"""Checking verification uploads by their content: PDFs and images pass, anything else is refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.verification.service import MAX_DOCUMENT_BYTES, DocumentRejected, check_document_file

pytestmark = pytest.mark.unit

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_a_pdf_is_kept_as_sent():
    checked = check_document_file(PDF)
    assert (checked.data, checked.content_type, checked.extension) == (PDF, "application/pdf", "pdf")


def test_an_image_is_re_encoded():
    checked = check_document_file(_png())
    assert checked.content_type in ("image/webp", "image/png") and checked.data != b""


@pytest.mark.parametrize("data, message", [
    (b"", "Choose a file."),
    (b"MZ\x90\x00 an executable named licence.pdf", "Upload a PDF or an image"),
    (b"%PDF-1.4\n truncated", "damaged or incomplete"),
    (b"%PDF-" + b"x" * MAX_DOCUMENT_BYTES, "too large"),
])
def test_other_content_is_refused_with_a_reason(data, message):
    with pytest.raises(DocumentRejected) as err:
        check_document_file(data)
    assert message in err.value.message and err.value.field == "file"
