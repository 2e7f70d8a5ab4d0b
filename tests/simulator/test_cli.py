"""``python -m simulator``: the password comes from the environment or a file, never from the command line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
SECRET = "cli-secret-4711"  # noqa: S105 - a test value


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "CYBERTIPLINE_SIM_PASSWORD"}
    return {**env, **extra}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "simulator", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)


def test_a_password_on_the_command_line_is_refused_without_echoing_it():
    for args in (["--password", SECRET], [f"--password={SECRET}"]):
        result = _run(["--port", str(_free_port()), *args], _env())

        assert result.returncode != 0
        assert SECRET not in result.stdout + result.stderr
        assert "CYBERTIPLINE_SIM_PASSWORD" in result.stderr


def test_no_password_at_all_is_refused():
    result = _run(["--port", str(_free_port())], _env())

    assert result.returncode != 0 and "CYBERTIPLINE_SIM_PASSWORD" in result.stderr


def _serve(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", str(port), "--username", "u", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, f"http://127.0.0.1:{port}/ispws"


def _check_serves_with(process: subprocess.Popen, base_url: str, password: str) -> None:
    try:
        banner = process.stdout.readline()
        assert "/ispws" in banner and password not in banner
        assert requests.get(f"{base_url}/status", auth=("u", password), timeout=5).status_code == 200
        assert requests.get(f"{base_url}/status", auth=("u", "wrong"), timeout=5).status_code == 401
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=10)
    assert password not in err


def test_the_password_comes_from_the_environment():
    process, base_url = _serve([], _env(CYBERTIPLINE_SIM_PASSWORD=SECRET))
    _check_serves_with(process, base_url, SECRET)


def test_the_password_comes_from_a_file(tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text(SECRET + "\n")
    process, base_url = _serve(["--password-file", str(password_file)], _env())
    _check_serves_with(process, base_url, SECRET)
