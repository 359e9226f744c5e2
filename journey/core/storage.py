"""The one storage interface for files (health documents, member photos), encrypted at rest.

Services store bytes and keep the opaque key that :meth:`Storage.put` returns (in their
own table, next to the file's sniffed type, size and owner); they never build a path.

* :class:`Storage` is the interface. :meth:`Storage.open` returns the whole content as
  ``bytes``, not a stream: a Fernet token is authenticated as a whole, so no byte of it
  may be used before all of it is checked, and uploads are bounded by
  ``UPLOAD_MAX_BYTES`` anyway (20 MB by default).
* :class:`LocalStorage` keeps each object in one file under a root folder
  (``instance/files/`` by default), written atomically, readable by its owner only.
  An S3-compatible store would be another implementation of the same interface.
* :class:`EncryptedStorage` wraps any storage with Fernet (AES-128-CBC + HMAC-SHA256)
  through :class:`~cryptography.fernet.MultiFernet`: the first key encrypts, every key
  decrypts, so a key is rotated by putting a new one first, running
  ``flask files rotate-key`` and then dropping the old one.
* :func:`get_storage` is what services call: the app's storage, built once from
  ``FILES_ROOT`` and ``FILE_KEYS`` (:func:`storage_from_config`).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app

from journey.core.config import ConfigurationError, file_keys_problem

#: Where :func:`get_storage` caches the app's storage.
EXTENSION = "journey.files"
#: The development key, under the instance folder (never used in production).
DEV_KEY_FILE = "file.key"

_KEY = re.compile(r"[0-9a-f]{32}")
_DIR_MODE = 0o700
_FILE_MODE = 0o600


class StorageError(Exception):
    """A stored object cannot be read, written or found."""


class InvalidKey(StorageError, ValueError):
    """A key that this storage never hands out (a path, ``..``, a NUL, another shape)."""


class MissingFile(StorageError, LookupError):
    """No object is stored under this key (never stored, or deleted)."""


class UnreadableFile(StorageError):
    """The object is there but none of the configured keys decrypts it (or it was altered)."""


@runtime_checkable
class Storage(Protocol):
    """Bytes stored under opaque keys. Keys are made by the storage, never by a caller."""

    def put(self, data: bytes) -> str:
        """Store ``data`` under a new random key and return the key."""

    def open(self, key: str) -> bytes:
        """The whole content stored under ``key``; :class:`MissingFile` if there is none."""

    def replace(self, key: str, data: bytes) -> None:
        """Atomically replace the content of an existing object (key rotation)."""

    def delete(self, key: str) -> None:
        """Remove the object; deleting what is not there is not an error."""

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    def keys(self) -> Iterator[str]:
        """Every stored key, in no particular order."""


def new_key() -> str:
    """A fresh opaque key: 32 random hex digits (128 bits)."""
    return secrets.token_hex(16)


def check_key(key: object) -> str:
    """``key`` if it has the shape this module hands out, else :class:`InvalidKey`."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidKey(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Objects as files under ``root``, sharded as ``ab/cd/abcd...`` (two levels of 256).

    Folders are created with mode 0o700 and files with 0o600. A write goes to a temporary
    file in the target folder, is flushed to disk and then renamed over the target
    (``os.replace``), so a reader sees either the old content or the new, never a part.
    """

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path_of(self, key: str) -> Path:
        key = check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        while True:
            key = new_key()
            if not self.path_of(key).exists():  # 2**-128; checked all the same
                break
        self._write(self.path_of(key), data)
        return key

    def open(self, key: str) -> bytes:
        try:
            return self.path_of(key).read_bytes()
        except FileNotFoundError:
            raise MissingFile(key) from None

    def replace(self, key: str, data: bytes) -> None:
        path = self.path_of(key)
        if not path.is_file():
            # Never bring back an object deleted meanwhile (a rotation racing an erasure
            # still has a window between this check and the rename).
            raise MissingFile(key)
        self._write(path, data)

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path_of(key).unlink()

    def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/??/*")):
            key = path.name
            if _KEY.fullmatch(key) and path.parent.parent.name == key[:2] \
                    and path.parent.name == key[2:4] and path.is_file():
                yield key

    def _write(self, path: Path, data: bytes) -> None:
        _make_private_dirs(self.root, path.parent)
        # mkstemp creates the file with mode 0o600 whatever the umask.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fileobj:
                fileobj.write(data)
                fileobj.flush()
                os.fsync(fileobj.fileno())
            os.chmod(temporary, _FILE_MODE)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        _fsync_dir(path.parent)


def _make_private_dirs(root: Path, folder: Path) -> None:
    """Create ``root`` and ``folder`` below it with mode 0o700 (an existing folder keeps
    its mode; the parents of ``root`` are made as usual)."""
    if folder.is_dir():
        return
    root.parent.mkdir(parents=True, exist_ok=True)
    parts = folder.relative_to(root).parts
    for depth in range(len(parts) + 1):
        path = root.joinpath(*parts[:depth])
        if not path.is_dir():
            with contextlib.suppress(FileExistsError):  # a concurrent writer made it
                path.mkdir(mode=_DIR_MODE)
                os.chmod(path, _DIR_MODE)  # mkdir's mode is masked by the umask


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class EncryptedStorage:
    """Encrypts on :meth:`put` and decrypts on :meth:`open`; ``inner`` sees only tokens.

    ``keys`` is a :class:`MultiFernet`: its first key encrypts, all of them decrypt.
    """

    def __init__(self, inner: Storage, keys: MultiFernet | list[Fernet]):
        self.inner = inner
        self.fernet = keys if isinstance(keys, MultiFernet) else MultiFernet(keys)

    def __repr__(self) -> str:
        return f"EncryptedStorage({self.inner!r})"

    def put(self, data: bytes) -> str:
        return self.inner.put(self.fernet.encrypt(bytes(data)))

    def open(self, key: str) -> bytes:
        token = self.inner.open(key)
        try:
            return self.fernet.decrypt(token)
        except InvalidToken:
            raise UnreadableFile(
                f"{key}: no configured key decrypts it (FILE_KEYS lacks its key?)") from None

    def replace(self, key: str, data: bytes) -> None:
        self.inner.replace(key, self.fernet.encrypt(bytes(data)))

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def keys(self) -> Iterator[str]:
        return self.inner.keys()

    def rotate(self, key: str) -> None:
        """Re-encrypt one object with the primary key (:meth:`MultiFernet.rotate`)."""
        try:
            rotated = self.fernet.rotate(self.inner.open(key))
        except InvalidToken:
            raise UnreadableFile(
                f"{key}: no configured key decrypts it (FILE_KEYS lacks its key?)") from None
        self.inner.replace(key, rotated)

    def rotate_all(self) -> int:
        """Re-encrypt every stored object with the primary key; how many were.

        Safe to run again. An object deleted while this runs is skipped, not brought back.
        """
        rotated = 0
        for key in self.keys():
            try:
                self.rotate(key)
            except MissingFile:
                continue
            rotated += 1
        return rotated


def parse_keys(value: str) -> MultiFernet:
    """``FILE_KEYS`` (comma-separated Fernet keys, newest first) as a :class:`MultiFernet`."""
    problem = file_keys_problem(value)
    if problem:
        raise ConfigurationError(problem)
    return MultiFernet([Fernet(part.strip()) for part in value.split(",") if part.strip()])


def development_key(instance_path: Path | str) -> bytes:
    """The development key in ``<instance>/file.key``: generated once (mode 0o600), then
    read back, also by other processes that start at the same time."""
    path = Path(instance_path) / DEV_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".file.key-")
        try:
            with os.fdopen(fd, "wb") as fileobj:
                fileobj.write(Fernet.generate_key() + b"\n")
                fileobj.flush()
                os.fsync(fileobj.fileno())
            os.chmod(temporary, _FILE_MODE)
            with contextlib.suppress(FileExistsError):  # another process was first
                os.link(temporary, path)  # publishes the whole file, never replaces one
        finally:
            os.unlink(temporary)
    return path.read_bytes().strip()


def storage_from_config(app: Flask) -> EncryptedStorage:
    """A new storage from ``app.config``: ``FILES_ROOT`` (default ``<instance>/files``) and
    ``FILE_KEYS`` (in development, when unset, the key in ``<instance>/file.key``)."""
    root = app.config.get("FILES_ROOT") or os.path.join(app.instance_path, "files")
    value = app.config.get("FILE_KEYS") or ""
    if not value.strip():
        if app.config.get("ENV_NAME") == "production":
            raise ConfigurationError(file_keys_problem(value))
        value = development_key(app.instance_path).decode("ascii")
    return EncryptedStorage(LocalStorage(Path(root)), parse_keys(value))


def get_storage(app: Flask | None = None) -> EncryptedStorage:
    """The app's storage (built on first use, then cached in ``app.extensions``)."""
    app = app or current_app._get_current_object()
    storage = app.extensions.get(EXTENSION)
    if storage is None:
        storage = app.extensions.setdefault(EXTENSION, storage_from_config(app))
    return storage
