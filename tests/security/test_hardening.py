"""Defaults that fail quietly when wrong: file modes, HSTS, MD5 as a mere checksum, the 413 message."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from console import config
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_instance_folder_and_its_generated_files_are_private(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setenv("CONSOLE_INSTANCE_PATH", str(instance))
    for name in ("SECRET_KEY", "CREDENTIALS_KEYS", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)

    settings = config.from_environment()

    assert mode(instance) == 0o700
    for name in ("secret_key", "credentials_key", "console.db"):
        assert mode(instance / name) == 0o600, name
    assert Path(settings["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")) == instance / "console.db"


def test_an_existing_open_instance_folder_is_closed(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    monkeypatch.setenv("CONSOLE_INSTANCE_PATH", str(instance))
    config.from_environment()
    assert mode(instance) == 0o700


def test_hsts_only_when_cookies_are_https_only(ctx, app, client, auth):
    factories.user("moderator", email="m@example.org")
    assert "Strict-Transport-Security" not in client.get("/login").headers
    app.config["SESSION_COOKIE_SECURE"] = True
    assert client.get("/login").headers["Strict-Transport-Security"].startswith("max-age=")


def test_md5_is_computed_only_as_a_checksum():
    """FIPS builds refuse hashlib.md5() unless it says it is not for security (NCMEC's checksum is MD5)."""
    calls = []
    for path in [*ROOT.joinpath("console").rglob("*.py"), *ROOT.joinpath("jobs").rglob("*.py")]:
        if "ncmec" in path.relative_to(ROOT).parts:
            continue
        for call in re.findall(r"md5\([^)]*\)", path.read_text()):
            calls.append((path.name, call))
    assert calls and all("usedforsecurity=False" in call for _name, call in calls), calls


def test_too_many_form_parts_is_a_413_that_says_so(client):
    data = {f"field{i}": "x" for i in range(1100)}
    response = client.post("/login", data=data, content_type="multipart/form-data")
    assert response.status_code == 413 and "more than 1000 parts" in response.text


def test_the_lock_file_pins_every_dependency_as_pyproject_does():
    """`make` installs from requirements.lock: a dependency added to pyproject.toml alone would be missing."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    lock = (ROOT / "requirements.lock").read_text().lower()
    for requirement in wanted:
        name, _, version = requirement.partition("==")
        name = re.sub(r"\[.*\]", "", name).lower().replace("_", "-")
        assert f"\n{name}=={version}" in lock, f"{requirement}: run `make lock`"
    assert "-r requirements.lock" in (ROOT / "Makefile").read_text()


def test_a_page_takes_a_small_form_only(client):
    response = client.post("/login", data={"email": "x" * 2_000_000, "password": "p"})
    assert response.status_code == 413 and "larger than this console accepts (1048576 bytes)" in response.text
