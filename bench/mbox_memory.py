"""Peak memory of streaming a large mbox through the ``mbox`` importer.

Writes a ~200 MB mailbox to a temporary directory (plain, multipart
alternative and attachment-carrying messages, plus one 20 MB attachment),
then imports it in a fresh subprocess that iterates every item and reports
its peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``). The bar is a
peak under 300 MB. ``--stdlib`` also measures ``mailbox.mbox`` reading the
same file, for comparison.

    python bench/mbox_memory.py [--size-mb 200] [--stdlib]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

LIMIT_MB = 300

_WORDS = [
    "garden",
    "meeting",
    "project",
    "travel",
    "invoice",
    "family",
    "book",
    "running",
    "budget",
    "idea",
    "notes",
    "friday",
    "review",
    "launch",
    "dinner",
    "weekend",
    "health",
    "reading",
    "draft",
    "plan",
    "call",
]


def _paragraphs(seed: int, count: int) -> str:
    lines = []
    for n in range(count):
        words = [_WORDS[(seed * 7 + n * 13 + k * 3) % len(_WORDS)] for k in range(60)]
        lines.append(textwrap.fill(" ".join(words).capitalize() + ".", 72))
    return "\n\n".join(lines)


def _headers(n: int, content_type: str) -> str:
    day = 1 + n % 28
    return (
        f"From sender{n % 50}@example.com Mon Jan {day:2d} 10:00:00 2024\n"
        f"From: Sender {n % 50} <sender{n % 50}@example.com>\n"
        f"To: me@example.org\n"
        f"Subject: Message {n} about {_WORDS[n % len(_WORDS)]}\n"
        f"Date: Mon, {day:02d} Jan 2024 10:{n % 60:02d}:00 +0000\n"
        f"Message-ID: <bench-{n}@example.com>\n"
        + (f"In-Reply-To: <bench-{n - 1}@example.com>\n" if n % 3 == 0 and n else "")
        + "MIME-Version: 1.0\n"
        f"Content-Type: {content_type}\n"
    )


def _attachment(size: int) -> str:
    data = base64.encodebytes(os.urandom(size)).decode("ascii")
    return (
        "--b1\nContent-Type: application/octet-stream\n"
        'Content-Disposition: attachment; filename="data.bin"\n'
        f"Content-Transfer-Encoding: base64\n\n{data}"
    )


def _message(n: int) -> str:
    body = _paragraphs(n, 8)
    if n % 20 == 0:
        return (
            _headers(n, 'multipart/mixed; boundary="b1"')
            + f"\n--b1\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
            + _attachment(150_000)
            + "--b1--\n\n"
        )
    if n % 4 == 0:
        html = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
        return (
            _headers(n, 'multipart/alternative; boundary="b2"')
            + f"\n--b2\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
            + f"--b2\nContent-Type: text/html; charset=utf-8\n\n<html><body>{html}</body></html>\n"
            + "--b2--\n\n"
        )
    return _headers(n, "text/plain; charset=utf-8") + f"\n{body}\n\n"


def write_mbox(path: Path, size_mb: int) -> int:
    """Write messages until the file reaches ``size_mb``; returns the count."""
    target = size_mb * 1024 * 1024
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(
            _headers(count, 'multipart/mixed; boundary="b1"')
            + "\n--b1\nContent-Type: text/plain\n\nA very large attachment follows.\n"
            + _attachment(20 * 1024 * 1024)
            + "--b1--\n\n"
        )
        count += 1
        while out.tell() < target:
            out.write(_message(count))
            count += 1
    return count


def child(path: str, stdlib: bool) -> None:
    """Import (or mailbox-read) ``path`` and print items and peak RSS as JSON."""
    import resource
    import time

    started = time.perf_counter()
    if stdlib:
        import mailbox

        items = sum(1 for _ in mailbox.mbox(path))
        skipped = 0
    else:
        from lifeos_gql.importers import ImportStats, get_importer

        stats = ImportStats()
        items = sum(1 for _ in get_importer("mbox").iter_items(Path(path), stats=stats))
        skipped = stats.skipped
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "items": items,
                "skipped": skipped,
                "seconds": round(time.perf_counter() - started, 1),
                "peak_rss_mb": round(peak_kb / 1024, 1),
                "vm_hwm_mb": _vm_hwm_mb(),
            }
        )
    )


def _vm_hwm_mb() -> float | None:
    """Linux's own high-water mark of this process, a cross-check of ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def measure(path: Path, stdlib: bool) -> dict[str, float]:
    """Run ``child`` in a fresh interpreter so peak RSS is this import's alone.

    Linux carries ru_maxrss across fork + exec, so the parent must stay
    small: that is why the mailbox is written by another subprocess.
    """
    args = [sys.executable, __file__, "--child", str(path)] + (["--stdlib"] if stdlib else [])
    done = subprocess.run(args, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--stdlib", action="store_true", help="also measure mailbox.mbox")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--write", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.stdlib)
        return 0
    if args.write:
        print(write_mbox(Path(args.write), args.size_mb))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.mbox"
        writer = [sys.executable, __file__, "--write", str(path), "--size-mb", str(args.size_mb)]
        written = int(subprocess.run(writer, check=True, capture_output=True, text=True).stdout)
        size_mb = path.stat().st_size / 1024 / 1024
        print(f"mbox: {size_mb:.0f} MB, {written} messages")
        ours = measure(path, stdlib=False)
        print(f"lifeos mbox importer: {ours}")
        if args.stdlib:
            print(f"mailbox.mbox (stdlib): {measure(path, stdlib=True)}")
    ok = ours["items"] == written and ours["peak_rss_mb"] < LIMIT_MB
    print(("PASS" if ok else "FAIL") + f": peak RSS {ours['peak_rss_mb']} MB (limit {LIMIT_MB} MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
