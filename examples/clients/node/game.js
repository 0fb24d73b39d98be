#!/usr/bin/env node
// A small "game" that drives modhost over its protocol (JSON-RPC 2.0, one message a line).
//
// It answers the game functions `world.spawn` and `player.name`, sends a `tick` event every
// frame, and prints what the mods send back: `scored` events, their logs, their state changes.
// Node's standard library only: copy `ModhostClient` into your game.
//
//   node game.js                          # spawns `modhost run --stdio` on examples/arena
//   modhost run --exec node game.js       # modhost launches the game (MODHOST_CONNECT is set)
//
// Environment: MODHOST (the modhost binary, default `modhost`), FRAMES (default 6).
"use strict";

const { spawn } = require("node:child_process");
const net = require("node:net");
const path = require("node:path");
const readline = require("node:readline");

const ARENA = path.join(__dirname, "..", "..", "arena");

class ModhostError extends Error {
  constructor(error) {
    super(error.message);
    this.code = error.code;
    this.data = error.data;
  }
}

// One connection to modhost. Requests go both ways: while a request waits for its answer,
// modhost's `game/call` requests are answered and its notifications dispatched.
class ModhostClient {
  constructor(input, output) {
    this.output = output;
    this.nextId = 1;
    this.waiting = new Map(); // request id -> { resolve, reject }
    this.functions = new Map(); // game function name -> (mod, ...args) => result
    this.onNotification = () => {};
    this.closed = new Promise((resolve) => input.on("close", resolve));
    readline.createInterface({ input }).on("line", (line) => this.received(JSON.parse(line)));
  }

  // Starts `modhost run --stdio` as a child; its logs go to our stderr.
  static spawn(modhost, cwd) {
    const child = spawn(modhost, ["run", "--stdio", "--listen", "none"], {
      cwd,
      stdio: ["pipe", "pipe", "inherit"],
    });
    const client = new ModhostClient(child.stdout, child.stdin);
    client.child = child;
    return client;
  }

  // Connects to a running host: a socket path or `tcp:HOST:PORT`.
  static async connect(address) {
    const socket = address.startsWith("tcp:")
      ? net.connect(Number(address.slice(address.lastIndexOf(":") + 1)), address.slice(4, address.lastIndexOf(":")))
      : net.connect(address);
    await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new ModhostClient(socket, socket);
  }

  send(message) {
    this.output.write(JSON.stringify({ jsonrpc: "2.0", ...message }) + "\n");
  }

  request(method, params = {}) {
    const id = this.nextId++;
    this.send({ id, method, params });
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  received(message) {
    if ("method" in message && "id" in message) {
      this.answer(message);
    } else if ("method" in message) {
      this.onNotification(message.method, message.params);
    } else {
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (!waiter) return;
      if ("error" in message) waiter.reject(new ModhostError(message.error));
      else waiter.resolve(message.result);
    }
  }

  // Answers `game/call` with the registered function, or an error (raised in the calling mod).
  answer(request) {
    const params = request.params || {};
    const fn = this.functions.get(params.function);
    if (request.method !== "game/call" || !fn) {
      this.send({ id: request.id, error: { code: -32601, message: "not provided" } });
      return;
    }
    try {
      this.send({ id: request.id, result: fn(params.mod, ...(params.args || [])) });
    } catch (error) {
      this.send({ id: request.id, error: { code: -32000, message: String(error.message || error) } });
    }
  }

  async close() {
    this.output.end();
    await this.closed;
  }
}

async function main() {
  const address = process.env.MODHOST_CONNECT;
  const client = address
    ? await ModhostClient.connect(address)
    : ModhostClient.spawn(process.env.MODHOST || "modhost", ARENA);

  const spawned = [];
  client.functions.set("world.spawn", (mod, kind) => spawned.push(`${kind} for ${mod}`));
  client.functions.set("player.name", () => "Ada");
  client.onNotification = (method, params) => {
    if (method === "events/event") console.log(`event ${params.event} from ${params.mod}: ${JSON.stringify(params.payload)}`);
    else if (method === "log") console.log(`log [${params.mod}] ${params.level}: ${params.message}`);
    else if (method === "mods/state") console.log(`state ${params.id}: ${params.state}`);
  };

  const hello = await client.request("initialize", {
    client: { name: "node-game", version: "1.0" },
    token: process.env.MODHOST_TOKEN,
    provides: ["world.spawn", "player.name"],
    subscribe: ["scored"],
    logs: "info",
  });
  console.log("modhost", hello.modhost.version, "mods:", hello.mods.map((m) => `${m.id} ${m.state}`).join(", "));

  const frames = Number(process.env.FRAMES || 6);
  for (let frame = 1; frame <= frames; frame++) {
    await client.request("events/emit", { event: "tick", payload: { frame, dt: 0.016 } });
  }
  console.log("spawned:", spawned.join(", "));
  console.log("arena counted", await client.request("mods/call", { mod: "arena", function: "spawnedSoFar", args: [] }));
  try {
    await client.request("mods/call", { mod: "arena", function: "nope" });
  } catch (error) {
    console.log(`error ${error.code}: ${error.message}`);
  }
  if (address) await client.request("shutdown");
  await client.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
