"""The worker process of extractors.isolation: reads (function, arguments) requests from one pipe
and writes each result to another, until the parent closes its end.

Run as `python -m extractors.worker REQUEST_FD RESPONSE_FD`; stdout and stderr stay the
parent's, so warnings (a scan left unread for want of Tesseract) reach the operator's log.
"""
from __future__ import annotations

import logging
import sys
from multiprocessing.connection import Connection

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s (extraction worker): %(message)s"


def main(request_fd: int, response_fd: int) -> None:
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    requests = Connection(request_fd, writable=False)
    responses = Connection(response_fd, readable=False)
    while True:
        try:
            work, args = requests.recv()
        except EOFError:  # the parent is done (or gone)
            return
        responses.send(work(*args))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
