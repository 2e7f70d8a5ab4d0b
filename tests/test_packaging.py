"""Installing the console prints no setuptools deprecation warnings."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import ROOT


def test_the_license_is_an_spdx_string_that_the_build_backend_accepts():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    # A table (`{ text = … }`) is deprecated since setuptools 77 and warns on every install.
    assert pyproject["project"]["license"] == "Apache-2.0"
    # A string is refused outright by setuptools before 77: the build must not pick one.
    [setuptools] = [r for r in pyproject["build-system"]["requires"] if r.startswith("setuptools")]
    minimum = re.fullmatch(r"setuptools>=(\d+)(?:\.\d+)*", setuptools)
    assert minimum and int(minimum.group(1)) >= 77
