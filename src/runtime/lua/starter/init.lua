-- {{name}}: a modhost mod in Lua 5.4. `.luals/modhost.lua` gives your editor (with the Lua
-- language server) the whole `modhost` API; see docs/mods.md in the modhost repository.
--
-- Every hook below is optional: delete the ones you do not need. Any other function of the
-- returned table can be called by other mods (`modhost.mods.call("{{id}}", "hello", "you")`)
-- and from the command line (`modhost call {{id}} hello you`).

local mod = {}

-- What this mod remembers across hot reloads (see onDetach and onReload).
local state = { greeted = 0 }

-- The mod is loaded and every mod it depends on is attached.
function mod.onAttach()
  modhost.log.info(modhost.mod.name .. " " .. modhost.mod.version .. " attached")
end

-- Every mod of the pack is attached: a good time to talk to the others.
function mod.onBootstrap()
  modhost.events.emit("{{id}}:ready", { greeting = modhost.settings.greeting })
end

-- The mod is about to be unloaded (shutdown, hot reload, or a dependency failed).
-- What this returns is handed to the new version's onReload.
function mod.onDetach()
  return state
end

-- After a hot reload: `previous` is what the old version's onDetach returned.
---@param previous Json
function mod.onReload(previous)
  if type(previous) == "table" then
    state = { greeted = math.floor(tonumber(previous.greeted) or 0) }
  end
end

-- An example function other mods and `modhost call` can use.
---@param who string
---@return string
function mod.hello(who)
  state.greeted = state.greeted + 1
  return modhost.settings.greeting .. ", " .. who .. "! (greeting number " .. state.greeted .. ")"
end

return mod
