#!/usr/bin/env python3
"""A minimal HTTP/1.1 PUT sink on loopback for scripts/bench-put.sh.

Reads exactly Content-Length bytes of each PUT and throws them away (411 for a
body without Content-Length, so a chunked upload shows up), then answers 200.
Prints its address on the first stdout line, as `cfsign serve` does. It does
no hashing, so that the client's work is what a benchmark measures.
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BUF = memoryview(bytearray(1 << 20))


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_PUT(self):
        length = self.headers.get("Content-Length")
        if length is None:
            self.send_response(411)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.close_connection = True
            return
        left = int(length)
        while left:
            n = self.rfile.readinto(BUF[: min(left, len(BUF))])
            if not n:
                return
            left -= n
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Sink)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
