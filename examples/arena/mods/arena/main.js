// @ts-check
/// <reference path="./modhost.d.ts" />
// Spawns an orc every `spawn_every` frames and tells the game it scored.

let spawned = 0;

modhost.events.on("tick", (tick) => {
  if (tick.frame % modhost.settings.spawn_every !== 0) return;
  const id = game.world.spawn("orc", { x: tick.frame, y: 0 });
  spawned += 1;
  console.log(`spawned orc #${id} on frame ${tick.frame}`);
  modhost.events.emit("scored", { points: 10, by: modhost.mod.id });
});

function onSettingsChanged(changed) {
  console.log(`now spawning every ${modhost.settings.spawn_every} frames`, changed);
}

function spawnedSoFar() {
  return spawned;
}
