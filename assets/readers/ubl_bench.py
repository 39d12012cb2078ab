"""Benchmark of the UBL reader: `python -m assets.readers.ubl_bench [DIR] [N] [PROCESSES]`.

Writes N copies of the real fixture documents (tests/fixtures/ubl/) into DIR with unique document numbers
and 7 lines each (the national mean is 6.9 lines an invoice), then times `parse_files` and prints docs/s.
Not a test: timings belong here, never in tests/.
"""

import re
import resource
import sys
import tempfile
import time
from pathlib import Path

from assets.readers.ubl import UblError, parse_files

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "ubl"
_LINE_BLOCK = re.compile(rb"(<cac:(InvoiceLine|CreditNoteLine|OrderLine)>.*?</cac:\2>)", re.DOTALL)
_FIRST_ID = re.compile(rb"(<cbc:ID>)([^<]*)(</cbc:ID>)")


def _templates() -> list[bytes]:
    """Fixture documents that the pipeline accepts, padded to 7 lines by repeating their last line."""
    templates = []
    for path in sorted(FIXTURES.rglob("*.xml")):
        data = path.read_bytes()
        blocks = _LINE_BLOCK.findall(data)
        if not blocks:
            continue
        last = blocks[-1][0]
        padding = last * max(0, 7 - len(blocks))
        end = data.rfind(last) + len(last)
        templates.append(data[:end] + padding + data[end:])
    return templates


def write_corpus(directory: Path, count: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    templates = _templates()
    paths = []
    for i in range(count):
        template = templates[i % len(templates)]
        # A unique document number (the root's first cbc:ID) so no two files are the same content.
        data = _FIRST_ID.sub(lambda m, i=i: m.group(1) + b"B%07d" % i + m.group(3), template, count=1)
        path = directory / f"doc_{i:07d}.xml"
        path.write_bytes(data)
        paths.append(path)
    return paths


def main(argv: list[str]) -> None:
    directory = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="ubl_bench_"))
    count = int(argv[1]) if len(argv) > 1 else 20_000
    processes = int(argv[2]) if len(argv) > 2 else 2
    paths = sorted(directory.glob("doc_*.xml")) if directory.exists() else []
    if len(paths) != count:
        paths = write_corpus(directory, count)
    before = _cpu_seconds()
    started = time.perf_counter()
    documents = errors = lines = 0
    for _path, _digest, result in parse_files(paths, processes=processes):
        if isinstance(result, UblError):
            errors += 1
        else:
            documents += 1
            lines += result.line_count
    elapsed = time.perf_counter() - started
    cpu = _cpu_seconds() - before
    print(
        f"{len(paths)} files ({documents} documents, {lines} lines, {errors} refused) in {elapsed:.2f} s "
        f"with {processes} processes: {len(paths) / elapsed:,.0f} docs/s wall-clock; "
        f"{cpu:.2f} CPU-s in all processes = "
        f"{len(paths) * processes / cpu:,.0f} docs/s on {processes} idle cores"
    )


def _cpu_seconds() -> float:
    """User + system time of this process and its finished children (the pool's workers, once joined)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main(sys.argv[1:])
