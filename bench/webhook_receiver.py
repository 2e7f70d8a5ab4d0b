"""A platform's webhook receiver for bench/webhooks.py, in its own process: it verifies each delivery with
`standardwebhooks`, waits --latency ms (the platform's own processing), answers 200, and appends
"arrival_time webhook-id" (time.time(), at arrival, before the wait) to --log.

    python bench/webhook_receiver.py --port P --latency 50 --log FILE   (secret from BENCH_WEBHOOK_SECRET)
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

ANSWER = b'{"ok":true}'


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0, help="ms")
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    hook = Webhook(os.environ["BENCH_WEBHOOK_SECRET"])
    lock = threading.Lock()
    log = open(args.log, "a", buffering=1)  # noqa: SIM115 - open for the process's life

    class Handler(BaseHTTPRequestHandler):
        # Keep-alive, as a platform's web server would: HTTP/1.1 with a Content-Length on every answer.
        # (Werkzeug's development server answers "Connection: close" whatever it is told.)
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes: with Nagle's algorithm on, the body waits for the client's
        # delayed ACK of the headers (~40 ms on every kept-alive answer). Web servers set TCP_NODELAY.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            arrived = time.time()
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            hook.verify(body, dict(self.headers.items()))
            with lock:
                log.write(f"{arrived:.6f} {self.headers['webhook-id']}\n")
            time.sleep(args.latency / 1000)
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(ANSWER)))
            self.end_headers()
            self.wfile.write(ANSWER)

        def log_message(self, *args) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
