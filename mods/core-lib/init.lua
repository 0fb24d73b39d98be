-- Core library, in Lua: hooks and functions are fields of the returned table.
local core = {}

function core.onAttach()
  print("core-lib attached, scale " .. modhost.settings.scale)
  -- `before` handlers may rewrite an event (or cancel it by returning false).
  modhost.events.before("greeting", function(greeting)
    return { from = greeting.from, text = string.upper(greeting.text) }
  end)
  modhost.events.on("greeting", function(greeting)
    print(greeting.from .. " says " .. greeting.text)
  end)
end

function core.onDetach()
  print("core-lib detached")
end

function core.double(n)
  return n * modhost.settings.scale
end

return core
