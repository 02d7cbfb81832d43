"""Bytes -> text, with clear errors for empty, binary, oversized and mis-encoded input."""

from __future__ import annotations

import contextlib
from pathlib import Path

from ..errors import InputError

# The encoding name that reads each input in its own: UTF-8 where it decodes, else the likeliest codec.
AUTO = "auto"
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"\x7fELF")


def read_bytes(path: Path, max_bytes: int) -> bytes:
    if not path.exists():
        raise InputError(str(path), "no such file or directory", "check the path")
    if path.is_dir():
        raise InputError(str(path), "is a directory with no readable articles")
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(
            str(path),
            f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit for one input",
            "split it, or raise NARRASCOPE_MAX_BYTES / --max-bytes",
        )
    return path.read_bytes()


def decode(data: bytes, source: str, encoding: str | None = None) -> str:
    """Decode ``data`` as UTF-8 (or ``encoding``; ``"auto"``: UTF-8 where it decodes, else the likeliest codec,
    so that a folder of mixed encodings reads in one run); refuse binary and empty input."""
    if not data.strip():
        raise InputError(source, "empty input", "nothing to analyse")
    if data.startswith(_BINARY_MAGIC) or b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(source, "binary file, not text", "give a .txt, .html, .jsonl, .csv or feed file")
    if encoding and encoding != AUTO:
        try:
            return data.decode(encoding)
        except LookupError:
            raise InputError(source, f"unknown encoding {encoding!r}", "give a Python codec name") from None
        except UnicodeDecodeError as exc:
            raise _wrongly_encoded(data, source, encoding, exc, _guess_encoding(data)) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        guess = _guess_encoding(data)  # once: it reads the whole input
        if encoding == AUTO and guess:
            with contextlib.suppress(UnicodeDecodeError):
                return data.decode(guess)
        raise _wrongly_encoded(data, source, "UTF-8", exc, guess) from None


def _wrongly_encoded(
    data: bytes, source: str, encoding: str, exc: UnicodeDecodeError, guess: str | None
) -> InputError:
    hint = (
        f"it looks like {guess}: re-run with --encoding {guess}, or --encoding {AUTO} to read each file in its own"
        if guess
        else "re-save it as UTF-8"
    )
    problem = f"not valid {encoding} (byte 0x{data[exc.start]:02x} at offset {exc.start})"
    return InputError(source, problem, hint)


def _guess_encoding(data: bytes) -> str | None:
    from charset_normalizer import from_bytes  # a declared dependency, imported when a guess is needed

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    # A tie goes to cp1252, the web's legacy default (WHATWG reads latin-1 as it): on a short Portuguese text
    # charset_normalizer ranks cp1250 first, which reads "situação" as "situaçăo".
    tie = (m for m in matches if m.encoding == "cp1252" and (m.chaos, -m.coherence) <= (best.chaos, -best.coherence))
    return "cp1252" if next(tie, None) else best.encoding
