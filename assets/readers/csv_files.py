"""Recognise a delivered CSV file's dialect with no configuration, and make it readable for DuckDB.

Pure functions: a file in, a description of how to read it (or a reason why it cannot be read) out.
DuckDB does the reading itself (set-based, in parallel); this module only decides delimiter, encoding and
which header cell is which canonical column, and transcodes the encodings DuckDB cannot read offline.
"""

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from assets.readers.layouts import map_header

SAMPLE_BYTES = 256 * 1024
MAX_LINE_BYTES = 2 * 1024 * 1024  # DuckDB's max_line_size: a longer line is dropped without a reject (2.0.1)
SCAN_CHUNK = MAX_LINE_BYTES // 2  # read size of the hashing pass: a chunk never holds a whole too-long line
MAX_COLUMNS = 1000  # real extracts have 10-60; DuckDB plans a positional column per header cell
TRANSCODE_CHUNK = 16 * 1024 * 1024
DELIMITERS = (";", ",", "\t")
NON_ASCII = re.compile(rb"[\x80-\xff]")
csv.field_size_limit(MAX_LINE_BYTES)  # a quoted value can be as long as a line DuckDB reads


class CsvFileError(ValueError):
    """The file cannot be read as a CSV extract; the message says why, in words an analyst understands."""


@dataclass(frozen=True)
class CsvDialect:
    encoding: str  # 'utf-8' (BOM or not) or 'windows-1252' (also covers ISO-8859-1)
    delimiter: str
    header: list[str]
    layout: str  # 'canonical' or a source-system layout of assets/readers/layouts.py
    columns: dict[int, str] = field(default_factory=dict)  # header cell index -> canonical column

    @property
    def needs_transcoding(self) -> bool:
        return self.encoding != "utf-8"

    def describe(self) -> dict[str, object]:
        return {
            "encoding": self.encoding,
            "delimiter": {"\t": "tab"}.get(self.delimiter, self.delimiter),
            "layout": self.layout,
            "columns": len(self.header),
        }


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    """Bytes undefined in Windows-1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D) are read as ISO-8859-1."""
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("ehandel_latin1_fallback", _latin1_fallback)


def detect_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8"
    try:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "windows-1252"


def decode(data: bytes, encoding: str) -> str:
    if encoding == "utf-8":
        return data.decode("utf-8-sig", errors="replace")
    return data.decode("cp1252", errors="ehandel_latin1_fallback")


def _first_record(text: str, delimiter: str) -> list[str]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')  # any line ending
    return next(reader, [])


def detect_delimiter(header_line: str) -> str:
    """The candidate that splits the header into the most cells (quotes respected)."""
    counts = {d: len(_first_record(header_line, d)) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    if counts[best] < 2:
        raise CsvFileError("the first line has no ';', ',' or tab between column names: not a CSV extract")
    return best


def _header_bytes(sample: bytes) -> bytes:
    """The sample up to the end of its first record: the first line break outside quotes (a quoted header cell
    may hold line breaks). Decoding only these bytes, not the whole 256 KB sample: sniffing 757 files took
    0.15 s instead of 0.65 s. Both bytes are plain ASCII in UTF-8 and Windows-1252: the cut never splits a
    character."""
    end = sample.find(b"\n")
    while end >= 0 and sample.count(b'"', 0, end) % 2:
        end = sample.find(b"\n", end + 1)
    return sample if end < 0 else sample[: end + 1]


def _non_ascii_window(handle: BinaryIO) -> bytes:
    """SAMPLE_BYTES of the rest of the file from its first non-ASCII byte on (b'' when there is none).
    All bytes before it are ASCII, so in UTF-8 it begins a character: the window starts on a character boundary."""
    while chunk := handle.read(SCAN_CHUNK):
        if chunk.isascii():
            continue
        match = NON_ASCII.search(chunk)
        assert match is not None
        window = chunk[match.start() : match.start() + SAMPLE_BYTES]
        return window + handle.read(SAMPLE_BYTES - len(window))
    return b""


def sniff(path: Path, kind: str) -> CsvDialect:
    """Describe how to read one delivered file of `kind` ('invoices' or 'orders'), or raise CsvFileError.
    Reads the first SAMPLE_BYTES only, unless they are plain ASCII: then the encoding is decided from the first
    non-ASCII bytes further on (a Windows-1252 file may have thousands of ASCII rows before its first 'ø').
    The pass that hashes the file checks its line lengths (LineLengthScan)."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
        if not sample.strip():
            raise CsvFileError("the file is empty")
        if b"\x00" in sample:
            raise CsvFileError("the file holds binary data (NUL bytes), not text: not a CSV extract")
        if b"\n" not in sample and b"\r" not in sample and len(sample) == SAMPLE_BYTES:
            raise CsvFileError(
                f"the first line is longer than {SAMPLE_BYTES // 1024} KB: not a header row of a CSV extract"
            )
        encoding = detect_encoding(_non_ascii_window(handle) if sample.isascii() else sample)
    text = decode(_header_bytes(sample), encoding)
    header_line = next(iter(text.splitlines()), "")
    try:
        delimiter = detect_delimiter(header_line)
        header = _first_record(text, delimiter)
    except csv.Error as error:  # e.g. a quoted header cell that never ends within the sample
        raise CsvFileError(f"the header row cannot be read as CSV: {error}") from None
    if len(header) > MAX_COLUMNS:
        raise CsvFileError(
            f"the header row has {len(header):,} columns (at most {MAX_COLUMNS:,} are read): not a CSV extract"
        )
    try:
        layout, columns = map_header(kind, header)
    except ValueError as error:
        raise CsvFileError(f"unknown layout: {error}") from None
    return CsvDialect(encoding=encoding, delimiter=delimiter, header=header, layout=layout, columns=columns)


class LineLengthScan:
    """Finds the first line over `limit` bytes in a file streamed chunk by chunk (chunks of at most `limit`
    bytes), so that the pass that hashes a delivered file also checks it: the file is read once.

    DuckDB 2.0.1 silently drops a line of hundreds of MB instead of rejecting it, so the rows would not add up.
    Only the offset of that line is kept: counting every chunk's line breaks cost 0.7 s of the GIL over the
    1.2 GB of scale 0.1; `line_number_at` counts them for the rare file that has such a line.
    """

    def __init__(self, limit: int = MAX_LINE_BYTES) -> None:
        self.limit = limit
        self.seen = 0  # bytes before the current chunk
        self.line_start = 0  # offset of the current line's first byte
        self.too_long_at: int | None = None  # offset of the first line over the limit
        self.line_break: bytes | None = None  # decided by the first chunk with a line break

    def update(self, chunk: bytes) -> None:
        if self.line_break is None:
            self.line_break = line_break(chunk)
        if self.too_long_at is None:
            brk = self.line_break or b"\n"
            first = chunk.find(brk)
            if first >= 0 and self.seen + first - self.line_start <= self.limit:
                self.line_start = self.seen + chunk.rfind(brk) + 1  # the rest of the chunk: under the limit
            elif self.seen + len(chunk) - self.line_start > self.limit:
                self.too_long_at = self.line_start
        self.seen += len(chunk)


def line_break(head: bytes) -> bytes | None:
    """The byte that ends a line in a file beginning with `head`: LF (also for CRLF), or CR in a file whose
    lines end in CR only (old Mac exports, which DuckDB reads); None while `head` has no line break."""
    if b"\n" in head:
        return b"\n"
    return b"\r" if b"\r" in head else None


def line_number_at(path: Path, offset: int) -> int:
    """The number (from 1) of the line that starts at byte `offset` of the file."""
    return line_numbers_at(path, [offset])[offset]


def line_numbers_at(path: Path, offsets: list[int]) -> dict[int, int]:
    """The number (from 1) of the line at each byte offset of the file: its line breaks before it, counted in
    one pass over the file."""
    lines = {}
    with path.open("rb") as handle:
        brk = line_break(handle.read(SAMPLE_BYTES)) or b"\n"
        handle.seek(0)
        breaks, counted_to = 0, 0
        for offset in sorted(set(offsets)):
            while counted_to < offset and (chunk := handle.read(min(SCAN_CHUNK, offset - counted_to))):
                breaks += chunk.count(brk)
                counted_to += len(chunk)
            lines[offset] = breaks + 1
    return lines


def rejected_record_lines(path: Path, line_byte_positions: list[int]) -> dict[int, int]:
    """The line (from 1) on which each record that DuckDB rejected starts, by its reject's `line_byte_position`.

    DuckDB counts that position from 1, and it can point at the line breaks before the record (blank lines,
    the LF of a CRLF): the record starts at the first byte after them."""
    starts = {}
    with path.open("rb") as handle:
        for position in set(line_byte_positions):
            start = position - 1
            handle.seek(start)
            while handle.read(1) in (b"\r", b"\n"):
                start += 1
            starts[position] = start
    lines = line_numbers_at(path, list(starts.values()))
    return {position: lines[start] for position, start in starts.items()}


def kept_record_lines(
    path: Path, dialect: CsvDialect, rejected_lines: set[int], kept_records: int
) -> list[int] | None:
    """The line (from 1) on which each record that DuckDB kept starts, in DuckDB's order (record_number 1, 2,
    ...). DuckDB's numbers count neither blank lines nor line breaks inside quoted values. Python's csv module
    splits the file into records again: like DuckDB it skips blank lines, and a record with another number of
    fields, or starting on a line DuckDB rejected, was not kept. None when the two disagree on the number of
    records kept (a file malformed in a way they read differently): the lines are then not known."""
    lines = []
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        records = csv.reader(handle, delimiter=dialect.delimiter, quotechar='"', doublequote=True)
        try:
            next(records, None)  # the header
            start = records.line_num + 1
            for record in records:
                if len(record) == len(dialect.header) and start not in rejected_lines:
                    lines.append(start)
                start = records.line_num + 1
        except csv.Error:
            return None
    return lines if len(lines) == kept_records else None


def too_long_line_reason(line: int, limit: int = MAX_LINE_BYTES) -> str:
    return (
        f"line {line} is longer than {limit // 2**20} MB: not a line of a CSV extract "
        "(a missing line break or a binary file?)"
    )


def transcode_to_utf8(source: Path, target: Path, encoding: str) -> None:
    """Stream a Windows-1252 / ISO-8859-1 file into UTF-8 (DuckDB's encodings extension is not available)."""
    decoder = codecs.getincrementaldecoder("cp1252")(errors="ehandel_latin1_fallback")
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(TRANSCODE_CHUNK):
            dst.write(decoder.decode(chunk).encode("utf-8"))
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))
