"""The container under a ``.convplay`` file: the zip and its ``.npy`` members, read safely.

A session file comes from anyone (a colleague, a course page, an attachment), so the
archive is treated as hostile until checked.  This module guards against what a zip or an
``.npy`` can do before the document is even looked at: member names that leave the
archive (``..``, absolute paths, drives, backslashes, control characters); zip bombs (too
many members, a huge directory, members or a total that unpack to too much, a
compression ratio beyond what real arrays give); headers that lie about a member's size
(reads are streamed and cut at what was declared); encrypted or unknown compression; and
``.npy`` members that would run code or exhaust memory (the header is parsed and checked,
no object dtype, no pickle, size bounded, before numpy reads any data; values must be
finite).  Nothing is extracted to disk.  What is refused is a :class:`SessionFileError`
whose text says why, for the user.  The document itself (the JSON, its values and
states) is :mod:`convplay.core.session_file`'s.
"""

from __future__ import annotations

import io
import math
import os
import re
import struct
import zipfile

import numpy as np

from convplay.core.input_source import sealed

MiB = 1 << 20
MAX_MEMBERS = 64
MAX_MEMBER_BYTES = 64 * MiB
MAX_TOTAL_BYTES = 256 * MiB
MAX_RATIO = 100  # uncompressed / compressed, for members over RATIO_FLOOR
RATIO_FLOOR = 1 * MiB
MAX_DIRECTORY_BYTES = 1 * MiB  # 64 members' entries take a few KB

SESSION_MEMBER = "session.json"
_ARRAY_MEMBER = re.compile(r"arrays/[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\.npy")
_DRIVE = re.compile(r"^[A-Za-z]:")


class SessionFileError(ValueError):
    """A session or lesson file convplay refuses (or cannot write); the text says why, for the user."""


def _check_directory_size(file) -> None:
    """Refuse a zip whose end record announces too many members or too large a directory,
    before zipfile parses the directory (a million entries would cost it gigabytes)."""
    opened = isinstance(file, (str, bytes, os.PathLike))
    f = open(file, "rb") if opened else file  # closed below when opened here
    try:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        tail_at = max(0, size - (22 + 0xFFFF))
        f.seek(tail_at)
        tail = f.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return  # no end record: zipfile says the file is damaged
        _, _, _, _, entries, directory, _, _ = struct.unpack("<4s4H2LH", tail[at:at + 22])
        if (entries == 0xFFFF or directory == 0xFFFFFFFF) and at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":
            _, _, record_at, _ = struct.unpack("<4sLQL", tail[at - 20:at])
            f.seek(record_at)
            record = f.read(56)
            if len(record) == 56 and record[:4] == b"PK\x06\x06":
                entries, directory = struct.unpack("<4sQ2H2L4Q", record)[7:9]
    except (OSError, struct.error):
        return  # zipfile reports it
    finally:
        if opened:
            f.close()
        else:
            f.seek(0)
    if entries > MAX_MEMBERS:
        raise SessionFileError(f"the zip holds {entries} members; a session holds at most {MAX_MEMBERS}")
    if directory > MAX_DIRECTORY_BYTES:
        raise SessionFileError(f"the zip's directory is {directory:,} bytes; a session's is at most {MAX_DIRECTORY_BYTES:,}")


class _Archive:
    """The zip's members, checked from its directory, read with their sizes enforced."""

    def __init__(self, zf: zipfile.ZipFile, warnings: list[str]):
        self._zf = zf
        self._infos: dict[str, zipfile.ZipInfo] = {}
        self._read_total = 0
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise SessionFileError(f"the zip holds {len(infos)} members; a session holds at most {MAX_MEMBERS}")
        total = 0
        for info in infos:
            name = info.filename
            for shown in {info.orig_filename, name}:
                _check_member_name(shown)
            if name in self._infos:
                raise SessionFileError(f"the member name {name!r} appears twice in the zip")
            if info.flag_bits & 0x1:
                raise SessionFileError(f"the member {name!r} is encrypted")
            if info.file_size > MAX_MEMBER_BYTES:
                raise SessionFileError(
                    f"the member {name!r} would unpack to {info.file_size / MiB:.0f} MiB; the limit is {MAX_MEMBER_BYTES // MiB} MiB"
                )
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise SessionFileError(f"the zip would unpack to more than {MAX_TOTAL_BYTES // MiB} MiB")
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise SessionFileError(
                    f"the member {name!r} is compressed {info.file_size / max(info.compress_size, 1):.0f} to 1, "
                    f"more than {MAX_RATIO} to 1: refused as a zip bomb"
                )
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise SessionFileError(f"the member {name!r} is compressed with a method convplay does not read")
            self._infos[name] = info
            if not (name == SESSION_MEMBER or name.endswith("/") or _ARRAY_MEMBER.fullmatch(name)):
                warnings.append(f"the member {name!r} is not part of a session and was ignored")

    def has(self, name: str) -> bool:
        return name in self._infos

    def read(self, name: str, limit: int) -> bytes:
        """The member's bytes; never more than it declared, ``limit`` or what the total allows."""
        info = self._infos[name]
        if info.file_size > limit:
            raise SessionFileError(f"the member {name!r} is {info.file_size / MiB:.1f} MiB; the limit is {limit / MiB:g} MiB")
        limit = min(limit, MAX_MEMBER_BYTES, info.file_size)
        chunks, got = [], 0
        try:
            with self._zf.open(info) as stream:
                while True:
                    chunk = stream.read(min(1 * MiB, limit + 1 - got))
                    if not chunk:
                        break
                    got += len(chunk)
                    self._read_total += len(chunk)
                    if got > limit or self._read_total > MAX_TOTAL_BYTES:
                        raise SessionFileError(f"the member {name!r} unpacks to more than it may")
                    chunks.append(chunk)
                    if got == limit:
                        # One more read lets zipfile check the CRC of what it gave.
                        if stream.read(1):
                            raise SessionFileError(f"the member {name!r} unpacks to more than it may")
                        break
        except SessionFileError:
            raise
        except Exception as exc:  # zlib.error, BadZipFile (CRC), EOFError, ...: the zip is damaged
            raise SessionFileError(f"the member {name!r} is damaged ({_reason(exc)})") from None
        if got != info.file_size:
            raise SessionFileError(f"the member {name!r} is truncated")
        return b"".join(chunks)


def _check_member_name(name: str) -> None:
    if "\\" in name:
        raise SessionFileError(f"the member name {name!r} holds a backslash")
    if name.startswith("/"):
        raise SessionFileError(f"the member name {name!r} is an absolute path")
    if _DRIVE.match(name):
        raise SessionFileError(f"the member name {name!r} names a drive")
    if ".." in name.split("/"):
        raise SessionFileError(f"the member name {name!r} leaves the archive")
    if any(ord(c) < 32 for c in name) or not name:
        raise SessionFileError(f"the member name {name!r} holds control characters")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def _parse_npy(data: bytes, what: str, max_values: int) -> np.ndarray:
    """The array in .npy bytes: header checked before numpy reads (or allocates) any data."""
    fp = io.BytesIO(data)
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            shape, _fortran, dtype = fmt.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, _fortran, dtype = fmt.read_array_header_2_0(fp)
        else:
            raise SessionFileError(f"{what} is an .npy file of version {version}, which convplay does not read")
    except SessionFileError:
        raise
    except Exception as exc:
        raise SessionFileError(f"{what} is not a valid .npy file ({_reason(exc)})") from None
    if dtype.hasobject:
        raise SessionFileError(f"{what} holds Python objects (a pickle), which convplay never loads")
    if dtype.names is not None or dtype.subdtype is not None or dtype.kind not in "iuf" or (
        dtype.kind == "f" and dtype.itemsize not in (2, 4, 8)
    ):
        raise SessionFileError(f"{what} holds {dtype} values; convplay reads float or int arrays only")
    if len(shape) > 4:
        raise SessionFileError(f"{what} has {len(shape)} dimensions")
    n = math.prod(shape)
    if n > max_values:
        raise SessionFileError(f"{what} holds {n:,} values; the limit is {max_values:,}")
    if len(data) != fp.tell() + n * dtype.itemsize:
        raise SessionFileError(f"{what}'s .npy data is {'truncated' if len(data) < fp.tell() + n * dtype.itemsize else 'longer than its header says'}")
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:
        raise SessionFileError(f"{what} is not a valid .npy file ({_reason(exc)})") from None
    array = np.array(array, dtype=np.float64, order="C")
    _check_finite(array, what)
    return sealed(array)


def _check_finite(array: np.ndarray, what: str) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        index = [int(i) for i in np.argwhere(bad)[0]]
        value = array[tuple(index)]
        word = "NaN" if np.isnan(value) else ("inf" if value > 0 else "-inf")
        raise SessionFileError(f"{what} holds {word} at {index}; a session holds finite values only")
