#!/usr/bin/env python3
"""A minimal HTTP/1.1 PUT sink on loopback for scripts/bench-put.sh.

Reads exactly Content-Length bytes of each PUT (411 for a body without one,
so a chunked upload shows up) and answers 200. Prints its address on the
first stdout line, as `cfsign serve` does.

    put-sink.py [--s3] [PORT]

Without --s3 the bytes are thrown away unhashed, so that a benchmark measures
the client alone: on Linux they are spliced from the socket through a pipe
into /dev/null, never copied to user space (the sink's CPU time is a small
fraction of the client's; elsewhere, `recv_into` one 4 MiB buffer). With --s3
it does what S3 does with a PUT: recomputes the SHA-256 (400
XAmzContentSHA256Mismatch when it differs from the header, 400 BadDigest
when it differs from x-amz-checksum-sha256) and answers with the MD5 as the
ETag.

Either way a 200 echoes the request's x-amz-checksum-sha256, as S3's
PutObject answer does (S3 API Reference, "PutObject"; User Guide, "Checking
object integrity"): the answer a client gets from S3, so that the comparison
with the recipe is fair. The plain sink echoes it unchecked, as it checks
nothing: S3 does that work on its side, not the client's.
"""
import base64
import fcntl
import hashlib
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

S3 = "--s3" in sys.argv[1:]
CHECKSUM = "x-amz-checksum-sha256"
CHUNK = 1 << 20
DISCARD_CHUNK = 4 << 20
SPLICE = hasattr(os, "splice")


def discard(handler, left):
    """Throws away the next `left` bytes of the body: False if it ended early."""
    # What the header parser read ahead is in rfile's buffer; the rest is on
    # the socket.
    first = handler.rfile.read1(min(left, 1 << 16))
    if not first:
        return False
    left -= len(first)
    sock = handler.connection
    if SPLICE:
        r, w = os.pipe()
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            try:
                fcntl.fcntl(w, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
            except OSError:
                pass  # the default 64 KiB pipe works too, in smaller pieces
            while left:
                n = os.splice(sock.fileno(), w, min(left, 1 << 20))
                if not n:
                    return False
                left -= n
                while n:
                    n -= os.splice(r, null, n)
            return True
        finally:
            for fd in (r, w, null):
                os.close(fd)
    buf = memoryview(bytearray(DISCARD_CHUNK))
    while left:
        n = sock.recv_into(buf[: min(left, DISCARD_CHUNK)])
        if not n:
            return False
        left -= n
    return True


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, headers=(), body=b""):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            return self.answer(411)
        left = int(length)
        checksum = self.headers.get(CHECKSUM)
        echo = [(CHECKSUM, checksum)] if checksum else []
        if not S3:
            if left and not discard(self, left):
                return
            return self.answer(200, echo)
        buf = memoryview(bytearray(CHUNK))
        sha, md5 = hashlib.sha256(), hashlib.md5()
        while left:
            n = self.rfile.readinto(buf[: min(left, CHUNK)])
            if not n:
                return
            sha.update(buf[:n])
            md5.update(buf[:n])
            left -= n
        if sha.hexdigest() != self.headers.get("x-amz-content-sha256"):
            return self.answer(
                400,
                [("Content-Type", "application/xml")],
                b"<Error><Code>XAmzContentSHA256Mismatch</Code>"
                b"<Message>The provided 'x-amz-content-sha256' header does not match what was computed.</Message></Error>",
            )
        if checksum and checksum != base64.b64encode(sha.digest()).decode():
            return self.answer(
                400,
                [("Content-Type", "application/xml")],
                b"<Error><Code>BadDigest</Code>"
                b"<Message>The SHA256 you specified did not match the calculated checksum.</Message></Error>",
            )
        self.answer(200, [("ETag", f'"{md5.hexdigest()}"')] + echo)

    def log_message(self, *args):
        pass


def main():
    ports = [a for a in sys.argv[1:] if a.isdigit()]
    server = ThreadingHTTPServer(("127.0.0.1", int(ports[0]) if ports else 0), Sink)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
