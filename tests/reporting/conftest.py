"""Fixtures of the reporting tests."""

from __future__ import annotations

import pytest

from console import tasks

# Filing without waiting: short timeouts, retries due at once. A test module tightens them with FAST_CONFIG.
FAST = {
    "NCMEC_CONNECT_TIMEOUT": 1,
    "NCMEC_READ_TIMEOUT": 2,
    "REPORT_RETRY_BASE_SECONDS": 0,
    "REPORT_RETRY_MAX_SECONDS": 0,
}


@pytest.fixture
def fast(app, request):
    app.config.update({**FAST, **getattr(request.module, "FAST_CONFIG", {})})
    with app.app_context():
        tasks.task_queue().empty()
    return app
