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
# A PDQ hash sets bit i when the i-th of 256 DCT coefficients exceeds their median, so a hash of any image
# has at most 128 bits set: of 1,000 generated images (shapes, blurred or not), every one of quality >= 50
# had exactly 128, lower-quality ones 49-128, flat colours 0-80 (quality 0); tests/hashbank/test_hash_rules.py
# keeps a smaller sample of that measurement. Fewer
# than PDQ_MIN_BITS comes only from a nearly flat image; more than PDQ_MAX_BITS from no image at all (the
# detector's "fff…" in the second outside sweep). The band is wide on purpose: it refuses what no genuine
# detector sends, not what another implementation of PDQ might round differently.
PDQ_MIN_BITS, PDQ_MAX_BITS = 16, 240
# A detector hash this long or longer made of one repeated character ("0000…", "AAAA…" in base64) is the
# hash of nothing: an empty or zeroed buffer.
REPEATED_MIN = 8
# Beside `pdq` in a detector's object (docs/api.md): the quality its PDQ implementation gave the hash.
QUALITY_KEY = "pdq_quality"
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
        value = value.lower()
    elif not DETECTOR_VALUE.fullmatch(value):
        raise HashValueError("must be 1–512 printable characters without spaces")
    problem = degenerate(algorithm, value)
    if problem:
        raise HashValueError(problem)
    return algorithm, value


def degenerate(algorithm: str, value: str) -> str | None:
    """Why a well-formed hash describes no real content (and would poison the bank), or None."""
    if len(value) >= REPEATED_MIN and len(set(value)) == 1:
        return (
            f"is one character repeated ({value[:4]}…): the hash of an empty or zeroed file, not of content"
        )
    if algorithm == PDQ:
        bits = int(value, 16).bit_count()
        if not PDQ_MIN_BITS <= bits <= PDQ_MAX_BITS:
            return (
                f"has {bits} of 256 bits set: a PDQ hash of an image has about half of them set "
                f"({PDQ_MIN_BITS}–{PDQ_MAX_BITS} accepted), so this one is near-constant"
            )
    return None


def quality_problem(raw) -> tuple[int | None, str | None]:
    """A PDQ quality as a detector or a list gives it (0–100): (the value, None) or (None, why not)."""
    if isinstance(raw, bool) or raw is None or raw == "":
        return None, "a PDQ quality is a whole number from 0 to 100"
    if isinstance(raw, str):
        raw = raw.strip()
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 3):
            return None, "a PDQ quality is a whole number from 0 to 100"
        raw = int(raw)
    if not isinstance(raw, int) or not 0 <= raw <= 100:
        return None, "a PDQ quality is a whole number from 0 to 100"
    if raw < PDQ_MIN_QUALITY:
        return raw, (
            f"is {raw}, below PDQ's quality threshold of {PDQ_MIN_QUALITY}: the hash of a nearly featureless "
            "image matches unrelated images"
        )
    return raw, None


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
    """The API's `media_hashes`: one object per `media` part, in order, algorithm → hash, and optionally
    `pdq_quality` (the detector's PDQ quality, 0–100): a PDQ below PDQ_MIN_QUALITY is refused.

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
        if QUALITY_KEY in hashes:
            if PDQ not in hashes:
                errors[f"{path}.{QUALITY_KEY}"] = "goes with a pdq hash in the same object"
            _value, problem = quality_problem(hashes[QUALITY_KEY])
            if problem:
                errors[f"{path}.{QUALITY_KEY}"] = problem
        for algorithm, raw in hashes.items():
            if algorithm == QUALITY_KEY:
                continue
            key = str(algorithm)[:40]
            if key.strip().lower() in (SHA256, MD5):
                errors[f"{path}.{key}"] = "is computed by the console from the file's bytes: leave it out"
                continue
            try:
                name, clean = normalise(algorithm, raw)
            except HashValueError as e:
                errors[f"{path}.{key}" if ALGORITHM.fullmatch(key) else path] = str(e)
                continue
            out[i][name] = clean
    return out
