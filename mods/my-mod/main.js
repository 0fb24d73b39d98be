// The seed example mod, in JavaScript. Hooks are global functions; every one is optional.
// `modhost.*` is the same API in every language; see docs/mods.md.
//
// Try `modhost run --watch`, change the greeting below and save: the mod reloads at once,
// and `greetings` survives the reload through onDetach and onReload.

let greetings = 0;

function onAttach() {
  console.log("My mod attached");
  // Call into the Lua mod this one depends on.
  const doubled = modhost.mods.call("core-lib", "double", 21);
  console.log(`core-lib doubled 21 into ${doubled}`);
}

function onBootstrap() {
  console.log("My mod bootstrapped");
  greetings += 1;
  // Every mod is attached now: tell whoever listens.
  modhost.events.emit("greeting", { from: modhost.mod.id, text: modhost.settings.greeting });
  console.log(`greetings sent so far: ${greetings}`);
}

// What this returns is handed to the new version's onReload after a hot reload.
function onDetach() {
  console.log("My mod detached");
  return { greetings };
}

function onReload(state) {
  greetings = state.greetings;
}

function getModInfo() {
  return "My Awesome Mod v1.0";
}
