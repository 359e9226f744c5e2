"""Uploads judged by their content: type sniffed, size limited, refusals translated."""

from __future__ import annotations

import io
import zipfile

import pytest
from cryptography.fernet import Fernet, MultiFernet
from flask_babel import force_locale
from werkzeug.datastructures import FileStorage

from journey.core.config import load_config
from journey.core.errors import InvalidInput
from journey.core.files import check_upload, sniff, store_upload, upload_body_limit
from journey.core.storage import EncryptedStorage, LocalStorage

MB = 1024 * 1024
MEDICAL = {"application/pdf", "image/jpeg", "image/png", "image/heic", "image/webp",
           "application/zip", "application/dicom"}

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
       b"\x00\x00\x00\x1f\x15\xc4\x89")
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00\x00\x00\x08free"
HEIF_MIF1 = b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic" + b"\x00\x00\x00\x08free"
AVIF = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
# A 128-byte preamble, "DICM", then the first element of the file meta group.
DICOM = b"\x00" * 128 + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00\xc4\x00\x00\x00"
TEXT = b"Patient notes: knee pain since 2019.\n"


def _zip(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


DICOM_ZIP = _zip(("DICOMDIR", DICOM), ("IMAGES/IM0001", DICOM))
DOCX = _zip(("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>"))


@pytest.mark.parametrize(("data", "mime"), [
    (PDF, "application/pdf"),
    (JPEG, "image/jpeg"),
    (PNG, "image/png"),
    (WEBP, "image/webp"),
    (HEIC, "image/heic"),
    (HEIF_MIF1, "image/heic"),
    (DICOM, "application/dicom"),
    (DICOM_ZIP, "application/zip"),
    (_zip(), "application/zip"),
    # Not what they start like.
    (AVIF, "image/avif"),
    (MP4, "video/mp4"),
    (DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"PK\x03\x04 a broken archive", None),
    (TEXT, None),
    (b"", None),
])
def test_sniff_reads_the_content(data, mime):
    assert sniff(data) == mime
    assert len(data) < 4096


@pytest.fixture
def rctx(app):
    with app.test_request_context():
        yield


def _refusal(data: bytes, **limits) -> str:
    limits.setdefault("allowed", MEDICAL)
    limits.setdefault("max_bytes", 20 * MB)
    with pytest.raises(InvalidInput) as refused:
        check_upload(data, **limits)
    body = refused.value.to_dict()
    assert refused.value.status == 422
    [fields] = body["errors"].values()  # one location: the form of a real upload
    [message] = fields["file"]
    assert body["message"] == message
    return message


@pytest.mark.parametrize("data", [PDF, JPEG, PNG, WEBP, HEIC, HEIF_MIF1, DICOM, DICOM_ZIP])
def test_every_medical_type_is_accepted(rctx, data):
    assert check_upload(data, allowed=MEDICAL, max_bytes=20 * MB) == sniff(data)


def test_the_name_and_the_declared_type_do_not_count(rctx):
    upload = FileStorage(io.BytesIO(PDF), filename="photo.jpg", content_type="image/jpeg")
    assert check_upload(upload.read(), allowed={"image/jpeg"} | MEDICAL,
                        max_bytes=MB) == "application/pdf"
    with pytest.raises(InvalidInput):
        check_upload(PDF, allowed={"image/jpeg"}, max_bytes=MB)


def test_a_text_file_named_scan_pdf_is_refused(rctx):
    upload = FileStorage(io.BytesIO(TEXT), filename="scan.pdf", content_type="application/pdf")
    assert _refusal(upload.read()) == (
        "This file is not one of the allowed types: "
        "PDF, JPEG, PNG, HEIC, WebP, DICOM (ZIP), and DICOM.")


@pytest.mark.parametrize("data", [AVIF, MP4, DOCX, b"<!DOCTYPE html><html></html>",
                                  b"PK\x03\x04 a broken archive"])
def test_other_types_are_refused(rctx, data):
    assert _refusal(data).startswith("This file is not one of the allowed types")


def test_the_allowed_types_are_named_for_people(rctx):
    assert _refusal(PDF, allowed={"image/png", "image/jpeg"}) == (
        "This file is not one of the allowed types: JPEG and PNG.")


def test_an_empty_file_is_refused(rctx):
    assert _refusal(b"") == "The file is empty."


def test_an_oversize_file_is_refused(rctx):
    assert _refusal(PDF + b"x" * (20 * MB)) == "The file is larger than 20 MB."
    assert _refusal(PDF + b"x" * 2 * MB, max_bytes=3 * MB // 2) == (
        "The file is larger than 1.5 MB.")
    assert check_upload(PDF + b"x" * (MB - len(PDF)), allowed=MEDICAL, max_bytes=MB)


def test_refusals_are_translated(app):
    with app.test_request_context(), force_locale("de"):
        assert _refusal(b"") == "Die Datei ist leer."
        assert _refusal(PDF + b"x" * 2 * MB, max_bytes=3 * MB // 2) == (
            "Die Datei ist größer als 1,5 MB.")
        assert _refusal(TEXT, allowed={"application/pdf", "image/png"}) == (
            "Diese Datei hat keinen der erlaubten Typen: PDF und PNG.")
    with app.test_request_context(), force_locale("ru"):
        assert _refusal(PDF + b"x" * MB, max_bytes=MB) == "Файл больше 1 МБ."


def test_small_limits_are_shown_in_kilobytes(rctx):
    assert _refusal(PDF + b"x" * 600 * 1024, max_bytes=500 * 1024) == (
        "The file is larger than 500 kB.")


def _storage(root) -> EncryptedStorage:
    return EncryptedStorage(LocalStorage(root), MultiFernet([Fernet(Fernet.generate_key())]))


def test_an_upload_is_stored_only_when_it_passes(rctx, tmp_path):
    storage = _storage(tmp_path / "files")
    stored = store_upload(PDF, storage=storage, max_bytes=MB)
    assert (stored.mime_type, stored.size) == ("application/pdf", len(PDF))
    assert storage.open(stored.key) == PDF

    for refused in (b"", TEXT, PDF + b"x" * MB):
        with pytest.raises(InvalidInput):
            store_upload(refused, storage=storage, max_bytes=MB)
    assert list(storage.keys()) == [stored.key]
    assert len([path for path in (tmp_path / "files").rglob("*") if path.is_file()]) == 1


def test_store_upload_uses_the_configured_limits(app, rctx, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 100)
    monkeypatch.setitem(app.config, "DOCUMENT_TYPES", ("image/png",))
    storage = _storage(tmp_path / "files")
    with pytest.raises(InvalidInput, match="larger than"):
        store_upload(PDF + b"x" * 100, storage=storage)
    with pytest.raises(InvalidInput, match="PNG"):
        store_upload(PDF, storage=storage)
    assert store_upload(PNG, storage=storage).mime_type == "image/png"


def test_upload_settings(monkeypatch):
    config = load_config()
    assert config["UPLOAD_MAX_BYTES"] == 20 * MB
    assert set(config["DOCUMENT_TYPES"]) == MEDICAL
    # An upload view may take the file and its envelope; other bodies keep their limit.
    assert upload_body_limit(config) > config["UPLOAD_MAX_BYTES"]

    monkeypatch.setenv("UPLOAD_MAX_BYTES", "5000000")
    monkeypatch.setenv("DOCUMENT_TYPES", "application/pdf, image/png")
    config = load_config()
    assert config["UPLOAD_MAX_BYTES"] == 5_000_000
    assert config["DOCUMENT_TYPES"] == ("application/pdf", "image/png")


def test_a_zip_whose_first_member_zipfile_cannot_read_is_no_document():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
    raw = bytearray(buffer.getvalue())
    # Mark the member as compressed with method 99 (AES), in both headers.
    raw[8:10] = (99).to_bytes(2, "little")
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 10:central + 12] = (99).to_bytes(2, "little")
    assert sniff(bytes(raw)) != "application/vnd.oasis.opendocument.text"
