// {{name}}: a modhost mod in TypeScript. modhost erases the types and runs what is left, so
// there is no build step, and errors point at this file's lines and columns. `tsc -p .`
// type-checks it against `modhost.d.ts`; see docs/mods.md in the modhost repository.
//
// Every hook below is optional: delete the ones you do not need. Any other exported function
// can be called by other mods (`modhost.mods.call("{{id}}", "hello", "you")`) and from the
// command line (`modhost call {{id}} hello you`). Only TypeScript whose types can be erased
// runs: no `enum` (use a union of string literals) and no `namespace` with code.

/** What this mod remembers across hot reloads (see onDetach and onReload). */
interface State {
  greeted: number;
}

let state: State = { greeted: 0 };

/** The mod is loaded and every mod it depends on is attached. */
export function onAttach(): void {
  modhost.log.info(`${modhost.mod.name} ${modhost.mod.version} attached`);
}

/** Every mod of the pack is attached: a good time to talk to the others. */
export function onBootstrap(): void {
  modhost.events.emit("{{id}}:ready", { greeting: modhost.settings.greeting });
}

/**
 * The mod is about to be unloaded (shutdown, hot reload, or a dependency failed).
 * What this returns is handed to the new version's onReload.
 */
export function onDetach(): State {
  return state;
}

/** After a hot reload: `previous` is what the old version's onDetach returned. */
export function onReload(previous: Json): void {
  if (previous && typeof previous === "object" && !Array.isArray(previous)) {
    state = { greeted: Number(previous.greeted) || 0 };
  }
}

/** An example function other mods and `modhost call` can use. */
export function hello(who: string): string {
  state.greeted += 1;
  return `${modhost.settings.greeting}, ${who}! (greeting number ${state.greeted})`;
}
