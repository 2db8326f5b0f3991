"""Decode a text sheet: BOM, UTF-16 without BOM, strict UTF-8, then Windows-1252.

No decoder here is lossy. Latin-1 is never guessed, because it maps byte 0x92 (the
curly apostrophe in cp1252, as in O’Neil) to an invisible control character.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from provisioner.errors import InputFileError

#: Bytes sampled to tell UTF-16 without a BOM from other text.
NUL_SAMPLE_BYTES = 4096

#: Share of the even or odd bytes that must be NUL for UTF-16 without a BOM.
UTF16_NUL_RATIO = 0.3

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# A multi-byte UTF-8 sequence. Windows-1252 text rarely contains one, because its
# accented letters are followed by ASCII letters, not by bytes 0x80-0xBF.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)

ENCODING_HINT = (
    "Save the sheet from Excel as CSV UTF-8 (.csv) or as .xlsx, or give the "
    "file's encoding with --encoding."
)


@dataclass(frozen=True, slots=True)
class DecodedText:
    """The text of a file and the codec that decoded it.

    ``guessed`` is true when the codec was a fallback (Windows-1252) rather than
    marked by a BOM, given by the caller, or valid UTF-8.
    """

    text: str
    encoding: str
    guessed: bool = False


def decode_text(path: Path, data: bytes, encoding: str | None) -> DecodedText:
    """Decode ``data`` strictly, or raise ``InputFileError`` naming the bad byte."""
    if encoding is not None:
        return DecodedText(_decode_strict(path, data, _check_codec(encoding)), encoding)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = _decode_strict(path, data[len(bom) :], codec)
            return DecodedText(text, codec)
    utf16 = _sniff_utf16(data)
    if utf16 is not None:
        return DecodedText(_decode_strict(path, data, utf16), utf16)
    if b"\x00" in data:
        raise InputFileError(
            f"{path.name} contains NUL bytes, so it is neither a text (CSV) file "
            f"nor a workbook. {ENCODING_HINT}"
        )
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        if _UTF8_SEQUENCE.search(data):
            raise _mixed_encoding_error(path, data, exc.start) from None
    try:
        return DecodedText(data.decode("cp1252"), "cp1252", guessed=True)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path.name} is neither UTF-8 nor Windows-1252 text (byte "
            f"0x{data[exc.start]:02X} at offset {exc.start} is invalid in both). "
            f"{ENCODING_HINT}"
        ) from None


def _mixed_encoding_error(path: Path, data: bytes, offset: int) -> InputFileError:
    line = data.count(b"\n", 0, offset) + 1
    return InputFileError(
        f"{path.name} is mostly UTF-8, but line {line} contains byte "
        f"0x{data[offset]:02X} (offset {offset}), which is not UTF-8: the file mixes "
        "two encodings. Retype the accented letters on that line, or save the "
        "whole sheet again as CSV UTF-8."
    )


def _check_codec(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InputFileError(
            f"Unknown encoding {encoding!r}. Use a name such as utf-8, cp1252 or "
            "utf-16."
        ) from None


def _sniff_utf16(data: bytes) -> str | None:
    """Guess UTF-16 without a BOM from NUL bytes in the even or odd positions."""
    sample = data[:NUL_SAMPLE_BYTES]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    odd_nuls = sample[1::2].count(0)
    even_nuls = sample[0::2].count(0)
    if odd_nuls >= pairs * UTF16_NUL_RATIO and even_nuls < pairs * 0.05:
        return "utf-16-le"
    if even_nuls >= pairs * UTF16_NUL_RATIO and odd_nuls < pairs * 0.05:
        return "utf-16-be"
    return None


def _decode_strict(path: Path, data: bytes, codec: str) -> str:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path.name} is not valid {codec} text: byte offset {exc.start} "
            f"({exc.reason}). {ENCODING_HINT}"
        ) from None
    return text.removeprefix("\ufeff")
