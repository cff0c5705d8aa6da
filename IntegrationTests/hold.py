"""Holds connections to a sidecar, for the fairness tests, run as another user (setpriv):

    hold.py PORT TOKEN COUNT SECONDS ADDRESS [ADDRESS ...]

Opens COUNT connections, spread over the source ADDRESSes (127/8), sends on each a keep-alive
`GET /healthz`, and prints one JSON line: how many were answered 200 and how many were closed
unanswered. Then holds every connection still open for SECONDS and exits. With TOKEN other than
`-`, it sends a request with that token instead, for a refused-request flood: the line then
counts the statuses."""
import json
import socket
import sys
import time


def main():
    port, token, count, seconds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    addresses = sys.argv[5:]
    held, statuses = [], {}
    for index in range(count):
        connection = socket.socket()
        connection.bind((addresses[index % len(addresses)], 0))
        connection.settimeout(3)
        try:
            connection.connect(("127.0.0.1", port))
            path = "/v1/credentials" if token != "-" else "/healthz"
            head = "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (path, port)
            if token != "-":
                head += "Authorization: %s\r\n" % token
            connection.sendall((head + "\r\n").encode())
            reply = connection.recv(65536)
        except OSError:
            reply = b""
        status = reply.split(b" ", 2)[1].decode() if reply.startswith(b"HTTP/1.1 ") else "closed"
        statuses[status] = statuses.get(status, 0) + 1
        if status == "closed":
            connection.close()
        else:
            held.append(connection)
    print(json.dumps(statuses), flush=True)
    time.sleep(seconds)


if __name__ == "__main__":
    main()
