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

from standardwebhooks import Webhook
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


class _Quiet(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a platform's web server would

    def log_request(self, *args, **kwargs) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.0, help="ms")
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    hook = Webhook(os.environ["BENCH_WEBHOOK_SECRET"])
    lock = threading.Lock()
    log = open(args.log, "a", buffering=1)  # noqa: SIM115 - open for the process's life

    def app(environ, start_response):
        arrived = time.time()
        request = Request(environ)
        body = request.get_data()
        hook.verify(body, request.headers)
        with lock:
            log.write(f"{arrived:.6f} {request.headers['webhook-id']}\n")
        time.sleep(args.latency / 1000)
        return Response('{"ok":true}', 200, content_type="application/json")(environ, start_response)

    make_server("127.0.0.1", args.port, app, threaded=True, request_handler=_Quiet).serve_forever()


if __name__ == "__main__":
    main()
