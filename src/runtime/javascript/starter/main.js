// @ts-check
// {{name}}: a modhost mod in JavaScript. `modhost.d.ts` beside this file gives your editor
// the whole `modhost` API, and `tsc -p jsconfig.json` in this folder type-checks it (the
// project file is `jsconfig.json`, so a bare `tsc -p .` does not find it); see docs/mods.md
// in the modhost repository for the guide.
//
// Every hook below is optional: delete the ones you do not need. Any other top-level
// function can be called by other mods (`modhost.mods.call("{{id}}", "hello", "you")`) and
// from the command line (`modhost call {{id}} hello you`).

/** What this mod remembers across hot reloads (see onDetach and onReload). */
let state = { greeted: 0 };

/** The mod is loaded and every mod it depends on is attached. */
function onAttach() {
  modhost.log.info(`${modhost.mod.name} ${modhost.mod.version} attached`);
}

/** Every mod of the pack is attached: a good time to talk to the others. */
function onBootstrap() {
  modhost.events.emit("{{id}}:ready", { greeting: modhost.settings.greeting });
}

/**
 * The mod is about to be unloaded (shutdown, hot reload, or a dependency failed).
 * What this returns is handed to the new version's onReload.
 */
function onDetach() {
  return state;
}

/**
 * After a hot reload: `previous` is what the old version's onDetach returned.
 * @param {Json} previous
 */
function onReload(previous) {
  if (previous && typeof previous === "object" && !Array.isArray(previous)) {
    state = { greeted: Number(previous.greeted) || 0 };
  }
}

/**
 * An example function other mods and `modhost call` can use.
 * @param {string} who
 */
function hello(who) {
  state.greeted += 1;
  return `${modhost.settings.greeting}, ${who}! (greeting number ${state.greeted})`;
}
