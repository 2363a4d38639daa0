#!/usr/bin/env python3
"""Is a Kafka broker serving at HOST PORT? Exit 0 when it is, 1 when not (yet).

A few hand-built Kafka protocol requests, so that waiting for the local broker costs a few
milliseconds a try instead of a JVM start:
  Metadata v4 (all topics): the broker answers and lists at least one registered broker;
  with --coordinators also FindCoordinator v1 for a consumer group (key type 0) and a
  transactional id (key type 1): both answer without error once __consumer_offsets and
  __transaction_state exist and are loaded, i.e. consumer groups and transactions work.
  (The first FindCoordinator creates those internal topics, so this also warms them up.)
Metadata v4 and FindCoordinator v1 are inside the ranges Kafka 4.x still serves (KIP-896).
With --sasl-plain USER:PASSWORD the connection first authenticates (SaslHandshake v1 for PLAIN,
then SaslAuthenticate v0), for a SASL_PLAINTEXT listener.
"""
import socket
import struct
import sys

CLIENT_ID = b"trailstream-stack"
PROBE_KEY = b"trailstream-stack-probe"


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.correlation = 0

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError("connection closed")
            data += chunk
        return data

    def call(self, api_key, version, body):
        self.correlation += 1
        header = struct.pack(">hhih", api_key, version, self.correlation, len(CLIENT_ID)) + CLIENT_ID
        message = header + body
        self.sock.sendall(struct.pack(">i", len(message)) + message)
        (size,) = struct.unpack(">i", self._read(4))
        payload = self._read(size)
        (correlation,) = struct.unpack_from(">i", payload, 0)
        if correlation != self.correlation:
            raise EOFError("unexpected correlation id")
        return payload[4:]


def authenticate(conn, credentials):
    user, _, password = credentials.partition(":")
    mechanism = b"PLAIN"
    response = conn.call(17, 1, struct.pack(">h", len(mechanism)) + mechanism)
    (error,) = struct.unpack_from(">h", response, 0)
    if error != 0:
        return False
    token = b"\0" + user.encode() + b"\0" + password.encode()
    response = conn.call(36, 0, struct.pack(">i", len(token)) + token)
    (error,) = struct.unpack_from(">h", response, 0)
    return error == 0


def ready(host, port, coordinators, sasl_plain=None):
    with socket.create_connection((host, port), timeout=3) as sock:
        sock.settimeout(3)
        conn = Conn(sock)
        if sasl_plain and not authenticate(conn, sasl_plain):
            return False
        # Metadata v4: topics = null (all), allow_auto_topic_creation = false
        response = conn.call(3, 4, struct.pack(">ib", -1, 0))
        _throttle, brokers = struct.unpack_from(">ii", response, 0)
        if brokers < 1:
            return False
        if coordinators:
            for key_type in (0, 1):
                body = struct.pack(">h", len(PROBE_KEY)) + PROBE_KEY + struct.pack(">b", key_type)
                response = conn.call(10, 1, body)
                _throttle, error = struct.unpack_from(">ih", response, 0)
                if error != 0:
                    return False
    return True


def main():
    host, port, rest = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    sasl_plain = rest[rest.index("--sasl-plain") + 1] if "--sasl-plain" in rest[:-1] else None
    try:
        return 0 if ready(host, port, "--coordinators" in rest, sasl_plain) else 1
    except (OSError, EOFError, struct.error):
        return 1


if __name__ == "__main__":
    sys.exit(main())
