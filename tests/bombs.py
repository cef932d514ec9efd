"""Excel workbooks that are small on disk and huge once unpacked, made as an
attacker would make them: a valid .xlsx skeleton around a worksheet of
repeated cells. Built once per test process (functools.cache), streamed into
the archive so making one never holds the unpacked sheet in memory."""

from __future__ import annotations

import functools
import io
import struct
import zipfile

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="young_people" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>child_id</t></is></c></row>'
)
_SHEET_TAIL = b"</sheetData></worksheet>"
MB = 1 << 20


def _workbook(write_sheet: functools.partial[None] | None = None, **sheet: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(_SHEET_HEAD)
            if write_sheet is not None:
                write_sheet(part)
            part.write(_SHEET_TAIL)
    return buffer.getvalue()


def _repeat(part: io.BufferedWriter, block: bytes, total: int) -> None:
    for _ in range(total // len(block)):
        part.write(block)


@functools.cache
def unpacks_big(megabytes: int = 300) -> bytes:
    """A sheet of one repeated row that unpacks to `megabytes` (the 11.8 MB
    bomb of the issue unpacked to 2.6 GB; the shape is the same)."""
    row = b'<row><c t="inlineStr"><is><t>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA</t></is></c></row>'
    block = row * (MB // len(row))
    return _workbook(functools.partial(_repeat, block=block, total=megabytes * MB))


@functools.cache
def many_cells(cells: int = 2_500_000) -> bytes:
    """Cells with different values, so the sheet compresses as real ones do
    (about 10 to 1) and unpacks to less than the size limit, but holds more
    cells than the cell limit (the issue's 1.2 MB file drew 5.5 million problems)."""

    # 10 cells a row, numbers that differ within deflate's 32 KB window; the
    # block is reused, which deflate cannot see across a megabyte.
    block = b"".join(
        b"<row>" + b"".join(b"<c><v>%d</v></c>" % (r * 10 + c) for c in range(10)) + b"</row>" for r in range(10_000)
    )

    def write(part: io.BufferedWriter) -> None:
        for _ in range(cells // 100_000):
            part.write(block)

    return _workbook(functools.partial(write))


@functools.cache
def lying_sizes(megabytes: int = 150) -> bytes:
    """unpacks_big with the sheet's declared size rewritten to 1 KB in the
    local header and the central directory: a reader that trusts the
    declared size would unpack all of it."""
    data = bytearray(unpacks_big(megabytes))
    name = b"xl/worksheets/sheet1.xml"
    small = 1024
    local = data.find(b"PK\x03\x04")
    while local >= 0:
        name_len = struct.unpack_from("<H", data, local + 26)[0]
        if data[local + 30 : local + 30 + name_len] == name:
            extra = local + 30 + name_len
            if struct.unpack_from("<I", data, local + 22)[0] == 0xFFFFFFFF:
                # zip64: the sizes are in the extra field (tag 1: uncompressed, compressed)
                struct.pack_into("<Q", data, extra + 4, small)
            else:
                struct.pack_into("<I", data, local + 22, small)
            break
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_len] == name:
            if struct.unpack_from("<I", data, central + 24)[0] == 0xFFFFFFFF:
                struct.pack_into("<Q", data, central + 46 + name_len + 4, small)
            else:
                struct.pack_into("<I", data, central + 24, small)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)
