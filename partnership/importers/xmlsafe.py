"""XML from outside, parsed so that nothing in it is ever resolved: no DTD,
no entity (internal or external), no external reference; a file over the
size limit is refused before it is read.

defusedxml does this by parsing with Python-level handlers: safe, but about
twice as slow as ElementTree's C parser (a 60 MB census, 100,000 children:
6.8 s against 3.9 s here). A DTD, and with it every entity declaration, can
only be written as `<!DOCTYPE` in the file's prolog, so in an encoding that
keeps ASCII as ASCII (UTF-8 and the 8-bit ones) a byte search for it finds
every one; such a file is refused and the rest go to the C parser, which
then has nothing to resolve. Anything else (UTF-16 or UTF-32, marked by a
byte-order mark or NUL bytes) goes through defusedxml.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring

from partnership.importers.common import ImportRejected
from partnership.importers.limits import Limits, check_size

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_WIDE = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def parse(name: str, data: bytes, limits: Limits | None = None) -> ET.Element:
    """The root element; ImportRejected saying why, in one line, otherwise."""
    limits = limits or Limits.from_settings()
    try:
        check_size(name, len(data), limits)
    except ValueError as exc:
        raise ImportRejected(name, [f"{name}:file: {str(exc).removeprefix(name + ': ')}"]) from exc
    try:
        if data.startswith(_WIDE) or b"\x00" in data[:4096]:
            return defused_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        declared = _DECLARATION.search(data)
        if declared:
            kind = "DTDForbidden" if declared.group(1).upper() == b"DOCTYPE" else "EntitiesForbidden"
            raise ImportRejected(name, [f"{name}:file: refused: the file declares a DTD or entities ({kind})"])
        return ET.fromstring(data)
    except DefusedXmlException as exc:
        words = f"refused: the file declares a DTD or entities ({type(exc).__name__})"
        raise ImportRejected(name, [f"{name}:file: {words}"]) from exc
    except ET.ParseError as exc:
        raise ImportRejected(name, [f"{name}:file: not well-formed XML ({exc})"]) from exc


def text(parent: ET.Element, name: str) -> str:
    """The stripped text of `parent`'s first child element called `name` ('' if none)."""
    found = parent.find(name)
    return (found.text or "").strip() if found is not None else ""
