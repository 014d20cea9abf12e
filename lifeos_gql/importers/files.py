"""Path checks and file discovery shared by the importers."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lifeos_gql.core.errors import BadInput


def require_file(path: Path) -> Path:
    """``path`` must be an existing regular file."""
    if not path.is_file():
        raise BadInput(f"Not a file: {path}", field="path")
    return path


def require_exists(path: Path) -> Path:
    """``path`` must exist (file or directory)."""
    if not path.exists():
        raise BadInput(f"No such file or directory: {path}", field="path")
    return path


def find_files(path: Path, suffixes: Iterable[str]) -> list[Path]:
    """``[path]`` for a file, else the matching files under a directory.

    A single file is accepted whatever its suffix (the user named it); in a
    directory only ``suffixes`` count, hidden entries are ignored, and the
    order is sorted so every run visits files the same way.
    """
    require_exists(path)
    if path.is_file():
        return [path]
    wanted = {s.lower() for s in suffixes}
    found = [
        p
        for p in path.rglob("*")
        if p.is_file()
        and p.suffix.lower() in wanted
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    ]
    return sorted(found)


def relative_name(root: Path, file: Path) -> str:
    """The identity of ``file`` inside an import of ``root`` (POSIX style)."""
    if root.is_file():
        return file.name
    return file.relative_to(root).as_posix()


def total_size(files: Iterable[Path]) -> int:
    """Sum of file sizes in bytes."""
    return sum(f.stat().st_size for f in files)
