"""How a stored value is written: JSON text behind its CRC-32, never pickled.

Plain text a test can grep for secrets; a flipped byte is noticed on reading.
"""

from __future__ import annotations

import json
import zlib


class DamagedValue(Exception):
    """A stored value that cannot be read back as it was written."""


def reject_constant(name: str):
    """json.loads' parse_constant: NaN and Infinity are not JSON, and never ours."""
    raise ValueError(f"non-standard JSON value {name}")


def encode(value: object) -> str:
    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return f"{zlib.crc32(text.encode('utf-8')):08x} {text}"


def decode(raw: bytes, parse: bool = True) -> object:
    """The value behind its checksum; parse=False gives the checked JSON text, for decoding in bulk."""
    if len(raw) < 10 or raw[8:9] != b" ":
        raise DamagedValue("no checksum")
    try:
        crc = int(raw[:8], 16)
    except ValueError:
        raise DamagedValue("no checksum") from None
    body = raw[9:]
    if zlib.crc32(body) != crc:
        raise DamagedValue("checksum mismatch")
    return parse_json(body) if parse else body


def parse_json(body: bytes) -> object:
    try:
        return json.loads(body.decode("utf-8"), parse_constant=reject_constant)
    except (ValueError, RecursionError) as e:
        raise DamagedValue(f"not JSON: {e}") from None
