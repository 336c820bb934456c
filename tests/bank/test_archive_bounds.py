"""A bank zip is bounded in size, entries, per-entry and total uncompressed size, and
compression ratio; each bound refuses the whole archive before anything is decompressed."""

from __future__ import annotations

import io
import random
import string
import time
import zipfile

import pytest

from app.bank import archive as archive_module
from app.bank.archive import (
    MAX_ARCHIVE_BYTES,
    MAX_ARCHIVE_FILES,
    MAX_FILE_BYTES,
    MAX_RATIO,
    read_zip,
)
from app.bank.files import BankFormatError


def make_zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def text(size: int, seed: int = 1) -> bytes:
    """Text that compresses like prose (about 2 to 1), so the ratio bound stays quiet."""
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_lowercase + " \n") for _ in range(size)).encode()


def refused(data: bytes, message: str, source: str = "<upload>") -> None:
    started = time.monotonic()
    with pytest.raises(BankFormatError) as error:
        read_zip(data)
    assert time.monotonic() - started < 1
    assert error.value.source == source
    assert message in error.value.message


def test_archive_too_large():
    refused(b"PK" + b"\0" * MAX_ARCHIVE_BYTES, "the archive is larger than 8 MiB")


def test_too_many_entries():
    entries = {f"t/{n:04d}.txt": b"" for n in range(MAX_ARCHIVE_FILES + 1)}
    refused(make_zip(entries, zipfile.ZIP_STORED), f"more than {MAX_ARCHIVE_FILES}")


def test_entries_at_the_bound_are_read():
    entries = {f"t/{n:04d}.txt": b"" for n in range(MAX_ARCHIVE_FILES - 1)}
    entries["t/q.md"] = b"no front matter\n"
    with pytest.raises(BankFormatError, match="front matter"):  # got as far as parsing
        read_zip(make_zip(entries, zipfile.ZIP_STORED))


def test_entry_too_large():
    data = make_zip({"t/q.md": text(MAX_FILE_BYTES + 1)})
    refused(data, "larger than 512 KiB uncompressed", source="t/q.md")


def test_total_too_large(monkeypatch):
    monkeypatch.setattr(archive_module, "MAX_TOTAL_BYTES", 3 * 1024 * 1024)
    entries = {f"t/{n}.md": text(400 * 1024, seed=n) for n in range(8)}
    refused(make_zip(entries), "more than 3 MiB uncompressed")


def test_ratio_too_high():
    bomb = make_zip({"t/q.md": b"a" * (MAX_FILE_BYTES - 1)})
    refused(bomb, f"more than {MAX_RATIO} to 1", source="t/q.md")


def test_small_entries_may_compress_well():
    """A short file of repeated characters is no bomb: it is read (and parsed)."""
    data = make_zip({"t/q.md": b"---\n" + b"#" * 20_000 + b"\n"})
    with pytest.raises(BankFormatError, match="front matter is not closed"):
        read_zip(data)


def test_unsupported_compression_is_a_clear_refusal():
    data = bytearray(make_zip({"t/q.md": b"---\nslug: x\n---\n"}, zipfile.ZIP_STORED))
    for header in (b"PK\x03\x04", b"PK\x01\x02"):  # the method field in both headers
        at = data.index(header)
        offset = 8 if header == b"PK\x03\x04" else 10
        data[at + offset : at + offset + 2] = (99).to_bytes(2, "little")
    refused(bytes(data), "not a zip archive, or a damaged one")
