"""What an uploaded file is, judged by its content, and whether it may be stored.

The type comes from the bytes (puremagic, plus a few signatures of our own), never from
the file name or the Content-Type the browser sent: a PDF named ``photo.jpg`` is a PDF,
and a text file named ``scan.pdf`` is refused. :func:`check_upload` refuses an empty
file, one over the size limit and one of a type not allowed, with a translated message
for the form field; :func:`store_upload` checks first and only then stores.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from functools import wraps

import puremagic
from babel.lists import format_list
from babel.units import format_unit
from flask import current_app, request
from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l

from journey.core.errors import InvalidInput
from journey.core.storage import Storage, get_storage

#: The types this module names for people, in the order a message lists them.
TYPE_NAMES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/heic": "HEIC",
    "image/webp": "WebP",
    "application/zip": "DICOM (ZIP)",
    "application/dicom": "DICOM",
}

#: Room for the multipart envelope (boundary, part headers, a few small fields) of an upload.
MULTIPART_OVERHEAD = 64 * 1024

# ISO base media file ("ftyp") brands of HEIF images coded with HEVC, and of AVIF.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_DICOM_MARKER = (128, b"DICM")  # after a 128-byte preamble (DICOM PS3.10)
# Local file header, empty archive, spanned archive.
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def sniff(data: bytes) -> str | None:
    """The MIME type of ``data`` from its content, or None when it is not recognised."""
    if not data:
        return None
    offset, marker = _DICOM_MARKER
    if data[offset:offset + len(marker)] == marker:
        return "application/dicom"
    if data.startswith(_ZIP_MAGIC):
        return _zip_type(data)
    heic = _iso_image_type(data)
    if heic:
        return heic
    try:
        matches = puremagic.magic_string(bytes(data))
    except (puremagic.PureError, ValueError):
        return None
    # Best match first; some signatures (embroidery formats and the like) have no MIME type.
    return next((match.mime_type for match in matches if match.mime_type), None)


def _iso_image_type(data: bytes) -> str | None:
    """HEIC (``ftypheic``, ``ftypmif1``, ...) or AVIF from the ``ftyp`` box, which
    puremagic does not tell apart reliably; None for any other content (MP4 included)."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    (size,) = struct.unpack(">I", data[:4])
    major = data[8:12]
    end = min(size, len(data)) if size >= 16 else 16
    brands = {major, *(data[i:i + 4] for i in range(16, end - 3, 4))}
    if brands & _HEIC_BRANDS:
        return "image/heic"
    if brands & _AVIF_BRANDS:
        return "image/avif"
    if major in _HEIF_BRANDS:
        return "image/heic"
    return None


#: Compression methods the standard library reads (another, e.g. AES, is not a document).
READABLE = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


def _zip_type(data: bytes) -> str | None:
    """A ZIP archive by its directory (puremagic takes every ZIP for a Word file): Office
    and OpenDocument files, Java and Android archives apart; None if it is broken."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if names[:1] == ["mimetype"]:  # OpenDocument, EPUB: stored first, uncompressed
                if archive.getinfo("mimetype").compress_type not in READABLE:
                    return None  # a method zipfile cannot read: not a document of ours
                with archive.open("mimetype") as member:
                    declared = member.read(100).decode("ascii", "replace").strip()
                return declared or None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, ValueError, EOFError,
            OSError):
        return None
    if "[Content_Types].xml" in names:
        for prefix, mime in _OOXML.items():
            if any(name.startswith(prefix) for name in names):
                return mime
        return None
    if "AndroidManifest.xml" in names:
        return "application/vnd.android.package-archive"
    if "META-INF/MANIFEST.MF" in names:
        return "application/java-archive"
    return "application/zip"


def upload_body_limit(config) -> int:
    """The request body an upload view allows, with room for the multipart envelope.

    ``MAX_CONTENT_LENGTH`` stays the limit of every other body (JSON among them); a view
    that takes a file raises it for its own request only, before reading the form:
    ``request.max_content_length = upload_body_limit(current_app.config)`` (Flask 3.1).
    """
    return max(config["UPLOAD_MAX_BYTES"] + MULTIPART_OVERHEAD,
               config.get("MAX_CONTENT_LENGTH") or 0)


def type_names(types: Collection[str]) -> list[str]:
    """People's names of ``types`` (``PDF``, ``DICOM (ZIP)``), known ones in their order."""
    known = [name for mime, name in TYPE_NAMES.items() if mime in types]
    return known + sorted(mime for mime in types if mime not in TYPE_NAMES)


def file_size_text(size: int) -> str:
    """A size for the reader's locale: ``20 MB``, ``1,5 MB``, ``20 МБ``, ``500 kB``."""
    locale = get_locale() or "en"
    if size < 1024 * 1024:
        return format_unit(max(1, round(size / 1024)), "digital-kilobyte", length="short",
                           format="#,##0", locale=locale)
    return format_unit(size / (1024 * 1024), "digital-megabyte", length="short",
                       format="#,##0.#", locale=locale)


def check_upload(data: bytes, *, allowed: Collection[str], max_bytes: int,
                 field: str = "file") -> str:
    """The sniffed MIME type of ``data``, or :class:`InvalidInput` for ``field`` when the
    file is empty, larger than ``max_bytes`` or of a type not in ``allowed``."""
    if not data:
        _refuse(field, _l("The file is empty."))
    if len(data) > max_bytes:
        _refuse(field, _l("The file is larger than %(limit)s.",
                          limit=LazyString(file_size_text, max_bytes)))
    mime = sniff(data)
    if mime is None or mime not in allowed:
        names = type_names(allowed)
        _refuse(field, _l("This file is not one of the allowed types: %(types)s.",
                          types=LazyString(_list_text, names)))
    return mime


def _list_text(names: list[str]) -> str:
    return format_list(names, style="standard", locale=get_locale() or "en")


def _refuse(field: str, message) -> None:
    raise InvalidInput(message, fields={field: [message]})


@dataclass(frozen=True)
class StoredFile:
    """What :func:`store_upload` stored: the storage key, the sniffed type, the size."""

    key: str
    mime_type: str
    size: int


def store_upload(data: bytes, *, allowed: Collection[str] | None = None,
                 max_bytes: int | None = None, field: str = "file",
                 storage: Storage | None = None) -> StoredFile:
    """Check ``data`` (by default against ``DOCUMENT_TYPES`` and ``UPLOAD_MAX_BYTES``) and
    only then store it (by default in :func:`~journey.core.storage.get_storage`)."""
    config = current_app.config
    mime = check_upload(
        data, field=field,
        allowed=config["DOCUMENT_TYPES"] if allowed is None else allowed,
        max_bytes=config["UPLOAD_MAX_BYTES"] if max_bytes is None else max_bytes)
    key = (storage or get_storage()).put(data)
    return StoredFile(key=key, mime_type=mime, size=len(data))


def accepts_upload(view):
    """Decorate a view that takes a file: its request may carry up to
    :func:`upload_body_limit` (every other request keeps ``MAX_CONTENT_LENGTH``). Put it
    outside the decorators that parse the form."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        request.max_content_length = upload_body_limit(current_app.config)
        return view(*args, **kwargs)

    wrapper._apidoc = getattr(view, "_apidoc", {})
    return wrapper
