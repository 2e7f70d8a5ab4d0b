"""The hashes the bank holds: their names, their written form, and PDQ computed from an image file.

PDQ is Meta's open perceptual hash (256 bits, written as 64 hex digits in the reference implementation's
order, so that lists computed elsewhere match hashes computed here). Two images whose PDQ hashes differ in at
most PDQ_DISTANCE bits are taken as the same picture (re-encoded, resized, lightly edited). A hash with a
quality below PDQ_MIN_QUALITY describes a nearly featureless image (a flat colour, a gradient): such hashes
match unrelated images, so they are neither banked nor looked up, as the reference recommends.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps

SHA256, MD5, PDQ = "sha256", "md5", "pdq"
HEX_DIGITS = {SHA256: 64, MD5: 32, PDQ: 64}
ALGORITHM = re.compile(r"[a-z][a-z0-9_-]{0,39}")
# A detector's hash as written: printable ASCII without spaces (hex, base64, or its own digits).
DETECTOR_VALUE = re.compile(r"[\x21-\x7e]{1,512}")
PDQ_BITS = 256
PDQ_DISTANCE = 31  # the reference's recommended threshold for matching
PDQ_MIN_QUALITY = 50
# PDQ downsamples to 64×64 itself; hashing a copy at most this size gives the same bits at a fraction of the
# decoding work (JPEGs decode at 1/2, 1/4 or 1/8 scale directly).
PDQ_WORKING_SIZE = 512


class HashValueError(ValueError):
    """A hash the bank cannot hold as written; the message says why."""


def normalise(algorithm: str, value: str) -> tuple[str, str]:
    """The algorithm's name and the value as stored (hex in lower case), or HashValueError."""
    if not isinstance(algorithm, str) or not ALGORITHM.fullmatch(algorithm.strip().lower()):
        raise HashValueError("an algorithm is named by 1–40 letters, digits, '-' or '_' (e.g. pdq, md5)")
    algorithm = algorithm.strip().lower()
    if not isinstance(value, str):
        raise HashValueError("must be a string")
    value = value.strip()
    digits = HEX_DIGITS.get(algorithm)
    if digits is not None:
        if len(value) != digits or not re.fullmatch(r"[0-9a-fA-F]+", value):
            raise HashValueError(f"a {algorithm} hash is {digits} hexadecimal digits")
        return algorithm, value.lower()
    if not DETECTOR_VALUE.fullmatch(value):
        raise HashValueError("must be 1–512 printable characters without spaces")
    return algorithm, value


def pdq_of_image(path: Path | BinaryIO) -> tuple[str, int] | None:
    """The PDQ hash (hex) and quality of an image file's first frame; None if its pixels do not decode."""
    import numpy as np
    import pdqhash

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img.draft("RGB", (PDQ_WORKING_SIZE, PDQ_WORKING_SIZE))
                img = ImageOps.exif_transpose(img) or img
                if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
                    # Transparent pixels as a viewer shows them on a white page, not as their hidden colour.
                    img = img.convert("RGBA")
                    background = Image.new("RGBA", img.size, (255, 255, 255, 255))
                    img = Image.alpha_composite(background, img)
                rgb = img.convert("RGB")
                rgb.thumbnail((PDQ_WORKING_SIZE, PDQ_WORKING_SIZE), Image.Resampling.BILINEAR)
                pixels = np.asarray(rgb, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    bits, quality = pdqhash.compute(pixels)
    return pdq_hex(bits), int(quality)


def pdq_hex(bits) -> str:
    """The reference's written form: bit 255 first (the pdqhash binding's vector is in that order)."""
    import numpy as np

    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def pdq_distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def parse_detector_hashes(value, media_count: int, errors: dict[str, str]) -> list[dict[str, str]]:
    """The API's `media_hashes`: one object per `media` part, in order, algorithm → hash.

    Adds "path": "message" to errors for every bad entry, and returns one dict per media part.
    """
    out: list[dict[str, str]] = [{} for _ in range(media_count)]
    if value is None:
        return out
    if not isinstance(value, list):
        errors["media_hashes"] = 'expected a list with one object per media part, e.g. [{"pdq": "…"}]'
        return out
    if len(value) > media_count:
        errors["media_hashes"] = (
            f"{len(value)} entries for {media_count} media part(s): one per part, in order"
        )
        return out
    for i, hashes in enumerate(value):
        path = f"media_hashes[{i}]"
        if hashes is None:
            continue
        if not isinstance(hashes, dict):
            errors[path] = "expected an object: algorithm → hash"
            continue
        if len(hashes) > 10:
            errors[path] = "at most 10 hashes per file"
            continue
        for algorithm, raw in hashes.items():
            key = str(algorithm)[:40]
            try:
                name, clean = normalise(algorithm, raw)
            except HashValueError as e:
                errors[f"{path}.{key}" if ALGORITHM.fullmatch(key) else path] = str(e)
                continue
            if name in (SHA256, MD5):
                errors[f"{path}.{name}"] = "is computed by the console from the file's bytes: leave it out"
                continue
            out[i][name] = clean
    return out
