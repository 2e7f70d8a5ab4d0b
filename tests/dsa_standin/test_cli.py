"""``python -m dsa_standin``: the token comes from the environment or a file, never from the command line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import requests

from tests.conftest import ROOT

SECRET = "5|cli-secret-4711"  # noqa: S105 - a test value


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k != "DSA_STANDIN_TOKEN"}, **extra}


def test_a_token_on_the_command_line_is_refused_without_echoing_it():
    for args in (["--token", SECRET], [f"--token={SECRET}"]):
        result = subprocess.run(
            [sys.executable, "-m", "dsa_standin", "--port", str(_free_port()), *args],
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode != 0 and SECRET not in result.stdout + result.stderr
        assert "DSA_STANDIN_TOKEN" in result.stderr


def _serves(args: list[str], env: dict[str, str]) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dsa_standin", "--port", str(port), "--platform", "CLI platform", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        assert f"127.0.0.1:{port}" in banner and SECRET not in banner
        url = f"http://127.0.0.1:{port}/api/ping"
        assert requests.get(url, headers={"Authorization": f"Bearer {SECRET}"}, timeout=5).status_code == 200
        assert requests.get(url, headers={"Authorization": "Bearer 1|wrong"}, timeout=5).status_code == 401
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=10)
    assert SECRET not in err


def test_the_token_comes_from_the_environment():
    _serves([], _env(DSA_STANDIN_TOKEN=SECRET))


def test_the_token_comes_from_a_file(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(SECRET + "\n")
    _serves(["--token-file", str(token_file)], _env())


def test_no_token_at_all_is_refused():
    result = subprocess.run(
        [sys.executable, "-m", "dsa_standin", "--port", str(_free_port())],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0 and "DSA_STANDIN_TOKEN" in result.stderr
