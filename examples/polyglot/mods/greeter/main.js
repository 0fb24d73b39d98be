// Greeter: a modhost mod in JavaScript that calls the Rust mod.
function onBootstrap() {
  const sum = modhost.mods.call("stats", "add_in_lua", 2, 3);
  modhost.log.info(`Rust asked Lua for 2 + 3: ${sum}`);
  const viaC = modhost.mods.call("checksum", "add_via_typescript");
  modhost.log.info(`C asked TypeScript for 20 + 22: ${viaC}`);
}

function hello(who) {
  return `hello, ${who}`;
}
