"""A stand-in for "your platform", for the one-command run and the tests: it receives the console's webhooks.

It shares no code with the console (console/webhooks is the sender; this is a receiver written from the
Standard Webhooks spec): every delivery is verified with the `standardwebhooks` library, then
- `content.remove` / `content.restore` hide or show the content on its page,
- `account.disable` / `account.suspend` / `account.restore` change the account's state,
- `preservation.request` is acknowledged with a reference (the account's data kept until the date asked),
- `enrichment.request` is answered with what the demo platform "knows" about the user and the files,
and a delivery whose `webhook-id` it has seen before is acknowledged again without acting twice (the
at-least-once promise's other half). It can be told to fail (500, timeout, 410 Gone, slow) from its page.

`python -m demo_platform --port 8766` (the secret from DEMO_PLATFORM_SECRET); `make run` starts it.
"""

from .app import create_platform
from .server import PlatformServer

__all__ = ["PlatformServer", "create_platform"]
