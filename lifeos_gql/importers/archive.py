"""Read a zip archive or a directory through one small interface."""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from types import TracebackType

from lifeos_gql.core.errors import BadInput
from lifeos_gql.importers.files import require_exists

# Guards against zip bombs: no single member is read past this size.
MAX_MEMBER_BYTES = 256 * 1024 * 1024


class Archive:
    """Files of a zip or a directory, named by POSIX paths relative to it."""

    def __init__(self, path: Path) -> None:
        require_exists(path)
        self._dir: Path | None = None
        self._zip: zipfile.ZipFile | None = None
        if path.is_dir():
            self._dir = path
            return
        try:
            self._zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise BadInput(f"Neither a directory nor a zip file: {path}", field="path") from exc

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the zip file, if any."""
        if self._zip is not None:
            self._zip.close()

    def names(self) -> list[str]:
        """All file names, sorted."""
        if self._zip is not None:
            return sorted(i.filename for i in self._zip.infolist() if not i.is_dir())
        assert self._dir is not None
        root = self._dir
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def size(self, name: str) -> int:
        """Uncompressed size in bytes."""
        if self._zip is not None:
            return self._zip.getinfo(name).file_size
        assert self._dir is not None
        return (self._dir / name).stat().st_size

    def read(self, name: str) -> bytes:
        """The member's bytes; ``ValueError`` past ``MAX_MEMBER_BYTES``."""
        if self.size(name) > MAX_MEMBER_BYTES:
            raise ValueError(f"{name} is larger than {MAX_MEMBER_BYTES} bytes")
        if self._zip is not None:
            with self._zip.open(name) as member:
                return member.read(MAX_MEMBER_BYTES)
        assert self._dir is not None
        return (self._dir / name).read_bytes()


def common_root(names: list[str], marker_files: tuple[str, ...]) -> str:
    """The folder holding the first marker file (exports are often nested once)."""
    candidates = [n for n in names if posixpath.basename(n) in marker_files]
    if not candidates:
        return ""
    return posixpath.dirname(min(candidates, key=lambda n: (n.count("/"), n)))
