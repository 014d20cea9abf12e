"""Vendor the GraphiQL assets that Strawberry's page loads from a CDN.

Reads the installed Strawberry's ``static/graphiql.html`` to learn which npm
packages, versions and files it loads (and their SRI hashes), fetches those
package tarballs through the npm registry with ``npm pack`` (npm checks each
tarball against the registry's sha512), and copies only those files, plus
each package's LICENSE, into ``lifeos_gql/api/static/graphiql/`` with a
``MANIFEST.json``. Every copied file's sha384 must equal the integrity hash
in Strawberry's page, so the bytes are exactly the ones Strawberry vouches for.

Run after upgrading Strawberry:  .venv/bin/python scripts/vendor_graphiql.py
Output is deterministic: re-running with the same Strawberry changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version as dist_version
from pathlib import Path, PurePosixPath

from lifeos_gql.api.graphiql import (
    MANIFEST_PATH,
    NOT_VENDORED,
    STATIC_DIR,
    UpstreamAsset,
    sri_sha384,
    upstream_assets,
)

LICENSE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE")


def package_dir(package: str, version: str) -> str:
    """Folder for one package version: ``@scope/name`` becomes ``scope-name@1.2.3``.

    Flat file names inside it: the repo's .gitignore ignores ``dist/`` folders.
    """
    return f"{package.lstrip('@').replace('/', '-')}@{version}"


def npm_pack(spec: str, dest: Path) -> tuple[Path, str]:
    """Download ``spec``'s tarball via npm; return its path and registry sha512 integrity."""
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        ["npm", "pack", spec, "--json", "--pack-destination", str(dest)],  # noqa: S607
        cwd=dest,
        check=True,
        capture_output=True,
        text=True,
    )
    info = json.loads(result.stdout)[0]
    tarball = dest / info["filename"]
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if info["integrity"] != f"sha512-{digest}":
        raise SystemExit(f"{spec}: tarball does not match the registry's integrity")
    return tarball, str(info["integrity"])


def read_member(tar: tarfile.TarFile, path: str) -> bytes | None:
    """Bytes of ``package/<path>`` in an npm tarball, or None when absent."""
    try:
        member = tar.getmember(f"package/{path}")
    except KeyError:
        return None
    handle = tar.extractfile(member)
    return None if handle is None else handle.read()


def vendor_package(
    package: str, version: str, assets: list[UpstreamAsset], work: Path
) -> tuple[dict[str, str], list[tuple[dict[str, str], bytes]]]:
    """Fetch one package; return its manifest record and (file entry, bytes) pairs."""
    tarball, tarball_integrity = npm_pack(f"{package}@{version}", work)
    folder = package_dir(package, version)
    files: list[tuple[dict[str, str], bytes]] = []
    with tarfile.open(tarball, "r:gz") as tar:
        meta = json.loads(read_member(tar, "package.json") or b"{}")
        for asset in assets:
            data = read_member(tar, asset.path)
            if data is None:
                raise SystemExit(f"{package}@{version} has no {asset.path}")
            if sri_sha384(data) != asset.integrity:
                raise SystemExit(
                    f"{package}@{version}/{asset.path}: sha384 differs from Strawberry's page"
                )
            target = f"{folder}/{PurePosixPath(asset.path).name}"
            entry = {"file": target, "package": package, "version": version}
            entry |= {"source": asset.path, "integrity": asset.integrity, "role": asset.role}
            files.append((entry, data))
        for name in LICENSE_NAMES:
            data = read_member(tar, name)
            if data is not None:
                entry = {"file": f"{folder}/{name}", "package": package, "version": version}
                entry |= {"source": name, "integrity": sri_sha384(data), "role": "license"}
                files.append((entry, data))
                break
    record = {"name": package, "version": version, "tarball_integrity": tarball_integrity}
    record["license"] = str(meta.get("license", "UNKNOWN"))
    return record, files


def main() -> int:
    """Vendor every asset of Strawberry's GraphiQL page except NOT_VENDORED ones."""
    wanted = [a for a in upstream_assets() if a.package not in NOT_VENDORED]
    if not wanted:
        raise SystemExit("found no CDN assets in Strawberry's graphiql.html")
    by_package: dict[tuple[str, str], list[UpstreamAsset]] = {}
    for asset in wanted:
        by_package.setdefault((asset.package, asset.version), []).append(asset)

    packages: list[dict[str, str]] = []
    entries: list[tuple[dict[str, str], bytes]] = []
    with tempfile.TemporaryDirectory(prefix="vendor-graphiql-") as tmp:
        for (package, version), assets in by_package.items():
            print(f"fetching {package}@{version}", file=sys.stderr)
            record, files = vendor_package(package, version, assets, Path(tmp))
            packages.append(record)
            entries.extend(files)

    # Replace only vendored folders; our own files in STATIC_DIR stay.
    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    for old in STATIC_DIR.iterdir():
        if old.is_dir() and "@" in old.name:
            shutil.rmtree(old)
    for entry, data in entries:
        target = STATIC_DIR / entry["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    # Scripts must load in the page's order (react before react-dom before graphiql ...).
    manifest = {
        "generated_by": "scripts/vendor_graphiql.py",
        "strawberry_version": dist_version("strawberry-graphql"),
        "packages": packages,
        "files": [entry for entry, _ in entries],
    }
    MANIFEST_PATH.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(entries)} files and {MANIFEST_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
