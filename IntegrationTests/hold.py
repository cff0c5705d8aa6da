"""Holds connections to a sidecar, for the fairness tests, run as another user (setpriv):

    hold.py PORT TOKEN COUNT SECONDS ADDRESS [ADDRESS ...]

With TOKEN `-`: opens COUNT connections, spread over the source ADDRESSes (127/8), sends on each
a request line and no more (a head that never ends: the sidecar holds such a connection until its
request-head timeout), and prints one JSON line: how many it still holds half a second later and
how many the sidecar closed at once. Then holds them for SECONDS and exits.

With any other TOKEN: sends COUNT whole requests with that token, a refused-request flood, and
prints the statuses they were answered with."""
import json
import select
import socket
import sys
import time


def main():
    port, token, count, seconds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    addresses = sys.argv[5:]
    if token == "-":
        hold(port, count, seconds, addresses)
    else:
        flood(port, token, count, addresses)


def hold(port, count, seconds, addresses):
    connections, closed = [], 0
    for index in range(count):
        connection = socket.socket()
        connection.bind((addresses[index % len(addresses)], 0))
        try:
            connection.connect(("127.0.0.1", port))
            connection.sendall(b"GET /healthz HTTP/1.1\r\n")
            connections.append(connection)
        except OSError:
            closed += 1
            connection.close()
    time.sleep(0.5)
    held = []
    for connection in connections:
        readable, _, _ = select.select([connection], [], [], 0)
        try:
            gone = bool(readable) and connection.recv(1) == b""
        except OSError:
            gone = True
        if gone:
            closed += 1
            connection.close()
        else:
            held.append(connection)
    print(json.dumps({"held": len(held), "closed": closed}), flush=True)
    time.sleep(seconds)


def flood(port, token, count, addresses):
    statuses = {}
    for index in range(count):
        connection = socket.socket()
        connection.bind((addresses[index % len(addresses)], 0))
        connection.settimeout(3)
        try:
            connection.connect(("127.0.0.1", port))
            head = "GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: %s\r\n\r\n" % (port, token)
            connection.sendall(head.encode())
            reply = connection.recv(65536)
        except OSError:
            reply = b""
        status = reply.split(b" ", 2)[1].decode() if reply.startswith(b"HTTP/1.1 ") else "closed"
        statuses[status] = statuses.get(status, 0) + 1
        connection.close()
    print(json.dumps(statuses), flush=True)


if __name__ == "__main__":
    main()
