// The seed example mod, in JavaScript. Hooks are global functions; every one is optional.
// `modhost.*` is the same API in every language; see docs/mods.md.

function onAttach() {
  console.log("My mod attached");
  // Call into the Lua mod this one depends on.
  const doubled = modhost.mods.call("core-lib", "double", 21);
  console.log(`core-lib doubled 21 into ${doubled}`);
}

function onBootstrap() {
  console.log("My mod bootstrapped");
  // Every mod is attached now: tell whoever listens.
  modhost.events.emit("greeting", { from: modhost.mod.id, text: modhost.settings.greeting });
}

function onDetach() {
  console.log("My mod detached");
}

function getModInfo() {
  return "My Awesome Mod v1.0";
}
