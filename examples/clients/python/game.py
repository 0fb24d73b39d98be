#!/usr/bin/env python3
"""A small "game" that drives modhost over its protocol (JSON-RPC 2.0, one message a line).

It answers the game functions `world.spawn` and `player.name`, sends a `tick` event every
frame, and prints what the mods send back: `scored` events, their logs, their state changes.
Standard library only: copy `ModhostClient` into your game.

    python3 game.py                 # spawns `modhost run --stdio` on examples/arena
    modhost run --exec python3 game.py   # modhost launches the game (MODHOST_CONNECT is set)

Environment: MODHOST (the modhost binary, default `modhost`), FRAMES (default 6).
"""

import json
import os
import socket
import subprocess
import sys

ARENA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "arena")


class ModhostError(Exception):
    """An error answer from modhost: `code`, `message` and `data` as JSON-RPC gives them."""

    def __init__(self, error):
        super().__init__(error.get("message"))
        self.code = error.get("code")
        self.data = error.get("data")


class ModhostClient:
    """One connection to modhost. Requests go both ways: while `request` waits for its answer,
    it answers modhost's `game/call` requests and dispatches its notifications."""

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.next_id = 1
        self.functions = {}  # game function name -> callable(mod_id, *args)
        self.on_notification = lambda method, params: None

    @classmethod
    def spawn(cls, modhost, cwd):
        """Starts `modhost run --stdio` as a child; its logs go to our stderr."""
        process = subprocess.Popen(
            [modhost, "run", "--stdio", "--listen", "none"],
            cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        client = cls(process.stdout, process.stdin)
        client.process = process
        return client

    @classmethod
    def connect(cls, address):
        """Connects to a running host: a socket path or `tcp:HOST:PORT`."""
        if address.startswith("tcp:"):
            host, port = address[len("tcp:"):].rsplit(":", 1)
            sock = socket.create_connection((host, int(port)))
        else:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(address)
        client = cls(sock.makefile("rb"), sock.makefile("wb"))
        client.socket = sock
        return client

    def send(self, message):
        message["jsonrpc"] = "2.0"
        self.writer.write(json.dumps(message).encode() + b"\n")
        self.writer.flush()

    def request(self, method, params=None):
        """Sends a request and returns its result, serving modhost meanwhile."""
        request_id = self.next_id
        self.next_id += 1
        self.send({"id": request_id, "method": method, "params": params or {}})
        while True:
            line = self.reader.readline()
            if not line:
                raise ConnectionError("modhost closed the connection")
            message = json.loads(line)
            if "method" in message and "id" in message:
                self.answer(message)
            elif "method" in message:
                self.on_notification(message["method"], message.get("params"))
            elif message.get("id") == request_id:
                if "error" in message:
                    raise ModhostError(message["error"])
                return message["result"]

    def answer(self, request):
        """Answers `game/call` with the registered function, or an error."""
        params = request.get("params") or {}
        function = self.functions.get(params.get("function"))
        if request["method"] != "game/call" or function is None:
            self.send({"id": request["id"], "error": {"code": -32601, "message": "not provided"}})
            return
        try:
            result = function(params.get("mod"), *params.get("args", []))
            self.send({"id": request["id"], "result": result})
        except Exception as error:  # the error becomes an error in the calling mod
            self.send({"id": request["id"], "error": {"code": -32000, "message": str(error)}})

    def close(self):
        self.writer.close()
        if hasattr(self, "process"):
            self.process.wait(timeout=10)


def main():
    address = os.environ.get("MODHOST_CONNECT")
    if address:
        client = ModhostClient.connect(address)
    else:
        client = ModhostClient.spawn(os.environ.get("MODHOST", "modhost"), ARENA)

    spawned = []
    client.functions["world.spawn"] = lambda mod, kind, at=None: spawned.append((mod, kind)) or len(spawned)
    client.functions["player.name"] = lambda mod: "Ada"

    def notified(method, params):
        if method == "events/event":
            print(f"event {params['event']} from {params['mod']}: {json.dumps(params['payload'])}")
        elif method == "log":
            print(f"log [{params['mod']}] {params['level']}: {params['message']}")
        elif method == "mods/state":
            print(f"state {params['id']}: {params['state']}")

    client.on_notification = notified
    hello = client.request("initialize", {
        "client": {"name": "python-game", "version": "1.0"},
        "token": os.environ.get("MODHOST_TOKEN"),
        "provides": ["world.spawn", "player.name"],
        "subscribe": ["scored"],
        "logs": "info",
    })
    print("modhost", hello["modhost"]["version"], "mods:", ", ".join(m["id"] + " " + m["state"] for m in hello["mods"]))

    for frame in range(1, int(os.environ.get("FRAMES", "6")) + 1):
        client.request("events/emit", {"event": "tick", "payload": {"frame": frame, "dt": 0.016}})
    print("spawned:", ", ".join(f"{kind} for {mod}" for mod, kind in spawned))
    print("arena counted", client.request("mods/call", {"mod": "arena", "function": "spawnedSoFar", "args": []}))
    try:
        client.request("mods/call", {"mod": "arena", "function": "nope"})
    except ModhostError as error:
        print(f"error {error.code}: {error}")
    if address:
        client.request("shutdown")  # --exec: modhost stops when the game exits anyway
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
