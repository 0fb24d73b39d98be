-- Tally: adds numbers for other mods, and counts `score` events.
local mod = {}
local heard = 0

function mod.onAttach()
  modhost.events.on("score", function(payload)
    heard = heard + 1
  end)
  modhost.events.on("stats.added", function(payload)
    modhost.log.info("the Rust mod added through Lua: " .. tostring(payload.sum))
  end)
end

function mod.add(a, b)
  return a + b
end

function mod.heard()
  return heard
end

return mod
