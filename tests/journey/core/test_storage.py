"""Files behind one storage interface: atomic, private, encrypted at rest, keys rotated."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, MultiFernet

from journey.core.config import ConfigurationError, load_config
from journey.core.storage import (
    DEV_KEY_FILE,
    EXTENSION,
    EncryptedStorage,
    InvalidKey,
    LocalStorage,
    MissingFile,
    Storage,
    UnreadableFile,
    get_storage,
    storage_from_config,
)

PLAINTEXT = b"%PDF-1.7 discharge letter: total knee replacement, left side\n" * 20


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def _encrypted(root: Path, *keys: bytes) -> EncryptedStorage:
    return EncryptedStorage(LocalStorage(root), MultiFernet([Fernet(key) for key in keys]))


@pytest.fixture
def files_app(app, tmp_path, monkeypatch):
    """The app with its files, its instance folder and its storage cache in ``tmp_path``."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    monkeypatch.setattr(app, "extensions", dict(app.extensions))
    app.extensions.pop(EXTENSION, None)  # a storage another test built is not this one's
    monkeypatch.setitem(app.config, "FILES_ROOT", str(tmp_path / "files"))
    monkeypatch.setitem(app.config, "FILE_KEYS", "")
    return app


def test_round_trip(tmp_path):
    storage = _encrypted(tmp_path / "files", Fernet.generate_key())
    assert isinstance(storage, Storage) and isinstance(storage.inner, Storage)
    key = storage.put(PLAINTEXT)
    other = storage.put(b"")
    assert key != other
    assert storage.exists(key)
    assert storage.open(key) == PLAINTEXT
    assert storage.open(other) == b""
    assert sorted(storage.keys()) == sorted([key, other])


def test_keys_are_opaque_and_sharded_in_private_folders(tmp_path):
    root = tmp_path / "files"
    storage = LocalStorage(root)
    key = storage.put(b"x")
    assert len(key) == 32 and int(key, 16) >= 0
    path = root / key[:2] / key[2:4] / key
    assert _stored_files(root) == [path]
    assert _mode(path) == 0o600
    for folder in (root, path.parent, path.parent.parent):
        assert _mode(folder) == 0o700


def test_the_file_on_disk_is_not_readable_without_the_key(tmp_path):
    root = tmp_path / "files"
    key = _encrypted(root, Fernet.generate_key()).put(PLAINTEXT)
    [path] = _stored_files(root)
    on_disk = path.read_bytes()
    assert PLAINTEXT not in on_disk
    assert b"knee" not in on_disk and b"%PDF" not in on_disk
    with pytest.raises(UnreadableFile):
        _encrypted(root, Fernet.generate_key()).open(key)


def test_an_altered_file_is_refused(tmp_path):
    root = tmp_path / "files"
    storage = _encrypted(root, Fernet.generate_key())
    key = storage.put(PLAINTEXT)
    [path] = _stored_files(root)
    token = bytearray(path.read_bytes())
    token[-10] ^= 1
    path.write_bytes(bytes(token))
    with pytest.raises(UnreadableFile):
        storage.open(key)


def test_key_rotation(tmp_path):
    root = tmp_path / "files"
    old, new = Fernet.generate_key(), Fernet.generate_key()
    key = _encrypted(root, old).put(PLAINTEXT)

    # The new key first: it encrypts from now on, the old one still decrypts.
    rotating = _encrypted(root, new, old)
    assert rotating.open(key) == PLAINTEXT
    fresh = rotating.put(b"after the rotation")
    assert _encrypted(root, new).open(fresh) == b"after the rotation"
    with pytest.raises(UnreadableFile):
        _encrypted(root, new).open(key)

    rotating.rotate(key)
    assert _encrypted(root, new).open(key) == PLAINTEXT
    with pytest.raises(UnreadableFile):
        _encrypted(root, old).open(key)
    assert rotating.rotate_all() == 2  # idempotent, every object once
    assert _encrypted(root, new).open(key) == PLAINTEXT


def test_rotation_without_the_old_key_says_so(tmp_path):
    root = tmp_path / "files"
    key = _encrypted(root, Fernet.generate_key()).put(PLAINTEXT)
    with pytest.raises(UnreadableFile, match=key):
        _encrypted(root, Fernet.generate_key()).rotate(key)


BAD_KEYS = ["../x", "../../etc/passwd", "/etc/passwd", "ab/cd/" + "0" * 32, "0" * 31 + "\0",
            "a\0b", "", ".", "..", "0" * 31, "0" * 33, "A" * 32, "g" * 32, "0" * 32 + "/",
            "0" * 32 + "\n", None, 123]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_keys_of_another_shape_are_refused(tmp_path, key):
    storage = _encrypted(tmp_path / "files", Fernet.generate_key())
    for call in (storage.open, storage.delete, storage.exists, storage.rotate,
                 lambda k: storage.replace(k, b"x")):
        with pytest.raises(InvalidKey):
            call(key)
    assert not (tmp_path / "files").exists()


def test_delete_is_idempotent(tmp_path):
    storage = _encrypted(tmp_path / "files", Fernet.generate_key())
    key = storage.put(PLAINTEXT)
    storage.delete(key)
    storage.delete(key)
    storage.delete("0" * 32)  # never stored
    assert not storage.exists(key)
    assert list(storage.keys()) == []
    with pytest.raises(MissingFile):
        storage.open(key)


def test_a_deleted_object_is_not_brought_back(tmp_path):
    storage = _encrypted(tmp_path / "files", Fernet.generate_key())
    key = storage.put(PLAINTEXT)
    storage.delete(key)
    with pytest.raises(MissingFile):
        storage.replace(key, b"again")
    with pytest.raises(MissingFile):
        storage.rotate(key)
    assert not storage.exists(key)


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    root = tmp_path / "files"
    storage = LocalStorage(root)
    key = storage.put(b"first")

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        storage.put(b"second")
    with pytest.raises(OSError, match="disk full"):
        storage.replace(key, b"changed")
    monkeypatch.undo()
    assert storage.open(key) == b"first"
    assert [path.name for path in _stored_files(root)] == [key]


def test_keys_lists_only_stored_objects(tmp_path):
    root = tmp_path / "files"
    storage = LocalStorage(root)
    assert list(storage.keys()) == []
    key = storage.put(b"x")
    folder = root / key[:2] / key[2:4]
    (folder / ".tmp-interrupted").write_bytes(b"half")
    (folder / ("f" * 32)).write_bytes(b"not in its shard")
    (root / "README").write_text("stray")
    assert list(storage.keys()) == [key]


def test_the_development_key_is_generated_once_and_reused(files_app, tmp_path):
    first = storage_from_config(files_app)
    key_file = tmp_path / "instance" / DEV_KEY_FILE
    assert _mode(key_file) == 0o600
    written = key_file.read_bytes()
    Fernet(written.strip())  # a valid key
    stored = first.put(PLAINTEXT)

    second = storage_from_config(files_app)
    assert key_file.read_bytes() == written
    assert second.open(stored) == PLAINTEXT
    assert [p.name for p in (tmp_path / "instance").iterdir()] == [DEV_KEY_FILE]
    assert _stored_files(tmp_path / "files")[0].name == stored


def test_files_root_defaults_to_the_instance_folder(files_app, tmp_path, monkeypatch):
    monkeypatch.setitem(files_app.config, "FILES_ROOT", "")
    storage = storage_from_config(files_app)
    assert storage.inner.root == tmp_path / "instance" / "files"


def test_file_keys_from_the_configuration(files_app, tmp_path, monkeypatch):
    new, old = Fernet.generate_key(), Fernet.generate_key()
    stored = _encrypted(tmp_path / "files", old).put(PLAINTEXT)
    monkeypatch.setitem(files_app.config, "FILE_KEYS", f"{new.decode()}, {old.decode()}")
    storage = storage_from_config(files_app)
    assert storage.open(stored) == PLAINTEXT
    assert _encrypted(tmp_path / "files", new).open(storage.put(b"x")) == b"x"
    assert not (tmp_path / "instance" / DEV_KEY_FILE).exists()


def test_a_malformed_key_is_refused_without_showing_it(files_app, monkeypatch):
    monkeypatch.setitem(files_app.config, "FILE_KEYS",
                        f"{Fernet.generate_key().decode()},not-a-key-secret")
    with pytest.raises(ConfigurationError, match="key 2 of 2") as refused:
        storage_from_config(files_app)
    assert "not-a-key-secret" not in str(refused.value)


def test_the_storage_is_built_once_per_app(files_app):
    with files_app.app_context():
        storage = get_storage()
        assert get_storage() is storage
    assert get_storage(files_app) is storage


def test_flask_files_rotate_key(files_app, tmp_path, monkeypatch):
    root = tmp_path / "files"
    old, new = Fernet.generate_key(), Fernet.generate_key()
    keys = [_encrypted(root, old).put(PLAINTEXT) for _ in range(3)]
    monkeypatch.setitem(files_app.config, "FILE_KEYS", f"{new.decode()},{old.decode()}")

    result = files_app.test_cli_runner().invoke(args=["files", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert "3 in" in result.output and "re-encrypted" in result.output
    assert [_encrypted(root, new).open(key) for key in keys] == [PLAINTEXT] * 3

    # With a key missing, it fails and says which file.
    del files_app.extensions[EXTENSION]  # the fixture's copy: built again from the config
    monkeypatch.setitem(files_app.config, "FILE_KEYS", old.decode())
    failed = files_app.test_cli_runner().invoke(args=["files", "rotate-key"])
    assert failed.exit_code == 1
    assert "no configured key decrypts it" in failed.output


PRODUCTION = {
    "ONEWINDOW_ENV": "production",
    "SECRET_KEY": "9f3a1c07e2d84b6a5c1e0f9d8b7a6c5e9f3a1c07e2d84b6a",
    "STRIPE_API_KEY": "sk_live_abcdef",
    "STRIPE_WEBHOOK_SECRET": "whsec_abcdef",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_abcdef",
    "STRIPE_API_BASE": "https://api.stripe.com",
}


@pytest.mark.parametrize("value", [None, "", " , ", "changeme"])
def test_production_refuses_to_start_without_file_keys(monkeypatch, value):
    for name, setting in PRODUCTION.items():
        monkeypatch.setenv(name, setting)
    if value is None:
        monkeypatch.delenv("FILE_KEYS", raising=False)
    else:
        monkeypatch.setenv("FILE_KEYS", value)
    with pytest.raises(ConfigurationError, match="FILE_KEYS") as refused:
        load_config()
    assert "Fernet.generate_key()" in str(refused.value)
    assert "SECRET_KEY" not in str(refused.value)  # only what is missing is named

    monkeypatch.setenv("FILE_KEYS", f"{Fernet.generate_key().decode()},"
                                    f"{Fernet.generate_key().decode()}")
    assert load_config()["ENV_NAME"] == "production"


def test_production_never_generates_a_key(files_app, tmp_path, monkeypatch):
    monkeypatch.setitem(files_app.config, "ENV_NAME", "production")
    with pytest.raises(ConfigurationError, match="FILE_KEYS"):
        storage_from_config(files_app)
    assert not (tmp_path / "instance").exists()
