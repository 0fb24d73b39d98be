-- Greets the player on the first tick, and finds out it may not spawn creatures.
local greeted = false

modhost.events.on("tick", function(tick)
  if greeted then return end
  greeted = true
  print("hello, " .. game.player.name() .. "!")
  local ok, refusal = pcall(game.world.spawn, "goblin")
  if not ok then modhost.log.warn(refusal) end
end)
