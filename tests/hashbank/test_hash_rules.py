"""Hash-bank poisoning: a detector's PDQ of `fff…` was banked without question (second outside sweep).

Malformed hashes, PDQ below the quality threshold and degenerate hashes (all zeros, all ones, near-constant)
are refused where they come in — the API's `media_hashes` and imported lists — naming the field or line.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from console.api import tokens
from console.cases.models import Case
from console.extensions import db
from console.hashbank import hashing, lists
from console.hashbank.models import HashEntry, MediaHash
from tests import factories
from tests.hashbank.helpers import encoded, picture, post_hashes


def good_pdq(seed: int = 3) -> str:
    return hashing.pdq_of_image(io.BytesIO(encoded(picture(seed))))[0]


def bits(n: int) -> str:
    """A PDQ-shaped hash (64 hex digits) with exactly n bits set, spread over the hash."""
    value = 0
    for i in range(n):
        value |= 1 << ((i * 97) % 256)
    assert value.bit_count() == n
    return f"{value:064x}"


@pytest.fixture
def scanner(ctx):
    factories.queue("User reports", "user_report")
    _token, raw = tokens.create_token("upload-scanner")
    db.session.commit()
    return raw


@pytest.mark.parametrize(
    ("hashes", "field", "message"),
    [
        ({"pdq": "f" * 64}, "media_hashes[0].pdq", "one character repeated"),
        ({"pdq": "0" * 64}, "media_hashes[0].pdq", "one character repeated"),
        ({"pdq": bits(10)}, "media_hashes[0].pdq", "has 10 of 256 bits set"),
        ({"pdq": bits(250)}, "media_hashes[0].pdq", "has 250 of 256 bits set"),
        ({"pdq": "g" * 64}, "media_hashes[0].pdq", "64 hexadecimal digits"),
        (
            {"pdq": good_pdq(), "pdq_quality": 20},
            "media_hashes[0].pdq_quality",
            "below PDQ's quality threshold",
        ),
        (
            {"pdq": good_pdq(), "pdq_quality": "high"},
            "media_hashes[0].pdq_quality",
            "whole number from 0 to 100",
        ),
        (
            {"pdq": good_pdq(), "pdq_quality": 101},
            "media_hashes[0].pdq_quality",
            "whole number from 0 to 100",
        ),
        ({"pdq_quality": 90}, "media_hashes[0].pdq_quality", "goes with a pdq hash"),
        ({"photodna": "A" * 40}, "media_hashes[0].photodna", "one character repeated"),
    ],
)
def test_a_detectors_bad_hash_is_refused_naming_the_field(client, scanner, hashes, field, message):
    response = post_hashes(client, scanner, [hashes])
    assert response.status_code == 422, response.json
    assert message in response.json["errors"][field]
    # Nothing was stored: no case, no hash to bank later.
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    assert db.session.scalar(select(func.count()).select_from(MediaHash)) == 0


def test_a_good_pdq_with_its_quality_is_taken(client, scanner):
    response = post_hashes(client, scanner, [{"pdq": good_pdq(), "pdq_quality": 93, "photodna": "AbC+/=x9"}])
    assert response.status_code == 201, response.json
    kept = {
        m.algorithm for m in db.session.scalars(select(MediaHash).where(MediaHash.computed_by == "detector"))
    }
    assert kept == {"pdq", "photodna"}


def test_an_imported_list_with_a_poisoned_line_imports_nothing_and_names_it(ctx):
    text = (
        "algorithm,hash,quality\n"
        f"pdq,{good_pdq()},95\n"
        f"pdq,{'f' * 64},\n"
        f"pdq,{bits(5)},\n"
        f"pdq,{good_pdq(4)},12\n"
        f"md5,{'0' * 32},\n"
        f"md5,{'a1' * 16},80\n"
    )
    with pytest.raises(lists.ImportRefused) as refused:
        lists.import_list(text.encode(), "Industry list")
    problems = refused.value.problems
    assert any(p.startswith("line 3: is one character repeated") for p in problems), problems
    assert any(p.startswith("line 4: has 5 of 256 bits set") for p in problems), problems
    assert any(p.startswith("line 5: quality is 12, below PDQ's quality threshold") for p in problems), (
        problems
    )
    assert any(p.startswith("line 6: is one character repeated") for p in problems), problems
    assert "line 7: quality a quality is given for PDQ hashes only" in problems
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(HashEntry)) == 0


def test_the_pdq_band_keeps_every_hash_a_real_picture_gives():
    """The measurement behind PDQ_MIN_BITS/PDQ_MAX_BITS, on a sample: a picture with structure has about half
    of its 256 bits set (the median threshold caps it at 128), far inside the band."""
    counts = []
    for seed in range(40):
        value, quality = hashing.pdq_of_image(io.BytesIO(encoded(picture(seed))))
        if quality >= hashing.PDQ_MIN_QUALITY:
            counts.append(int(value, 16).bit_count())
            assert hashing.degenerate(hashing.PDQ, value) is None
    assert len(counts) >= 30
    assert hashing.PDQ_MIN_BITS < min(counts) and max(counts) <= 128 < hashing.PDQ_MAX_BITS
